"""Qt item models and state objects over RPC data; no widgets in here."""
