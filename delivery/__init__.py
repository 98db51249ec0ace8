"""The outbox, its payloads and buttons, and its sender; imports core/ and below.

The only way anything reaches Telegram. Producers (`handlers/`, `scheduler/`, bot screens)
queue messages with `outbox.enqueue` inside their own transaction; `sender.OutboxSender`
drains the table within Telegram's limits. Only `telegram.py` (the transport) speaks the
Bot API through aiogram; `callbacks.py` holds aiogram's `CallbackData` classes, the format
every button's data has, shared by whoever builds a button and the routers that parse it.
"""
