"""The aiogram side: routers, middlewares, keyboards; imports handlers/ and below.

Routers are one module per feature, each built fresh by its `router()` factory; the
user-context middleware puts the user in the data; messages go out through `delivery/`.
`bot.setup` builds the bot and the dispatcher."""
