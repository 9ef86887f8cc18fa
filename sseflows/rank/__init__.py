"""sseflows.rank."""
