"""sseflows.qe."""
