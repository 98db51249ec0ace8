"""Core: the canonical entities' commands, the event catalogue and the signal hub."""
