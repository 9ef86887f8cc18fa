"""sseflows: tiered computational screening campaigns for Li solid-state electrolytes."""

__version__ = "0.1.0"
