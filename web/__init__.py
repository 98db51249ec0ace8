"""The thin web layer (form, ingest webhook, webinar pages); imports handlers/ and below."""
