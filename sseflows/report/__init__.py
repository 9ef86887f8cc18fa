"""sseflows.report."""
