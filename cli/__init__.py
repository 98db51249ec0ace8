"""Command-line adapters that `main.py` hands what it built to; import handlers/ and below."""
