"""sseflows.gates."""
