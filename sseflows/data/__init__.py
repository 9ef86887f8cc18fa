"""sseflows.data."""
