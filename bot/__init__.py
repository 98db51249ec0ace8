"""The aiogram side: routers (one module per feature), the user-context middleware, and
the Delivery layer (`outbox`, `sender`). `bot.setup` builds the bot and the dispatcher."""
