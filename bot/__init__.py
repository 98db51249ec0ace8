"""The aiogram side: routers, middlewares, outbox and sender; imports handlers/ and below.

Routers are one module per feature; the user-context middleware puts the user in the data;
the Delivery layer (`outbox`, `sender`) lives here until it becomes `delivery/`.
`bot.setup` builds the bot and the dispatcher."""
