"""sseflows.flows."""
