"""Domain types shared by every tier; no I/O here."""
