"""Core: the canonical commands, the event catalogue, the signal hub; imports models, locales."""
