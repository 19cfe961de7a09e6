"""OpenLineage ingester: events in, normalized batches out."""
