"""Pure parsers: a source in, a normalized `catalog.domain.Batch` out. No store access."""
