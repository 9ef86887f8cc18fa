"""sseflows.md."""
