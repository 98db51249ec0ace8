"""Command-line adapters: `main.py` builds things and hands them to these commands."""
