"""Observability adapters: structured logging (and later tracing and metrics exporters)."""
