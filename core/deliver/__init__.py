"""Delivery: the queue runner and delivery agents (not yet built)."""
