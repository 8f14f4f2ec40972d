"""The vacation auto-responder (not yet built)."""
