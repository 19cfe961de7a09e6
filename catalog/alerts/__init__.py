"""Alerts: events derived in the write path, routed through ownership and lineage,
delivered durably."""
