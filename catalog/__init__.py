"""Baton: a metadata catalog and lineage graph service for data handoffs."""

__version__ = "0.1.0"
