"""The thin web layer: registration form, ingest webhook, (later) tracker and webinar pages."""
