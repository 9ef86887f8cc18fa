"""sseflows.campaign."""
