"""A feature module's handlers, declared once, registered on a fresh `Router` per dispatcher.

aiogram attaches a router to one parent for life ("Router is already attached"), and one
process may build several dispatchers (every test that starts the service does). So a
module does not own a `Router`: it declares its handlers on `Routes` with the decorators
aiogram's router has (`@router.message(...)`, `@router.callback_query(...)`), and
`bot/setup.py` builds a new router from every module for every dispatcher (`build()`),
through the new router's public `register`. No private attribute is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aiogram import Router

Handler = TypeVar("Handler", bound=Callable[..., Any])


class Routes:
    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[tuple[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def _on(self, event: str, filters: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        def declare(handler: Handler) -> Handler:
            self._handlers.append((event, handler, filters, kwargs))
            return handler

        return declare

    def message(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        """`@router.message(...)`, as on aiogram's `Router`."""
        return self._on("message", filters, kwargs)  # type: ignore[no-any-return]

    def callback_query(self, *filters: Any, **kwargs: Any) -> Callable[[Handler], Handler]:
        """`@router.callback_query(...)`, as on aiogram's `Router`."""
        return self._on("callback_query", filters, kwargs)  # type: ignore[no-any-return]

    def build(self) -> Router:
        """A new router with every handler declared here, in declaration order."""
        router = Router(name=self.name)
        for event, handler, filters, kwargs in self._handlers:
            router.observers[event].register(handler, *filters, **kwargs)
        return router
