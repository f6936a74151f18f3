"""The HTTP API (placeholder docstring; the application package replaces this module)."""
