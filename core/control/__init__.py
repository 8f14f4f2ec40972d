"""The JSON-lines control protocol (not yet built)."""
