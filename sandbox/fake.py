"""`FakeTelegram`: a Bot API server in memory, served over HTTP by aiohttp.

The product's bot talks to it through aiogram exactly as it talks to Telegram (sandbox
mode), and tests use it the same way: point a real `Bot` at `serve()`'s URL, act as users
with `send_text` / `send_start` / `press_button`, and await what the bot sent with
`wait_for_messages`.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from sandbox import botmethods, media, messages
from sandbox.driver import TelegramDriver
from sandbox.limits import RateLimiter, RateLimits
from sandbox.protocol import BotApiError, Json, Params, error, ok, read_params
from sandbox.world import Method, World


@dataclass
class ApiCall:
    """One Bot API request the bot made, for tests to inspect (and interceptors to refuse)."""

    method: str  # canonical name, e.g. "sendMessage"
    params: Params
    error_code: int | None = None  # set when the answer was an error

    @property
    def chat_id(self) -> int | None:
        with contextlib.suppress(BotApiError):
            return self.params.chat_id() if self.params.has("chat_id") else None
        return None


# Runs before every method; raising BotApiError answers the request with that error.
Interceptor = Callable[[ApiCall], Awaitable[None] | None]


@dataclass
class Fault:
    """How the fake misbehaves for one method (see `FakeTelegram.fail`): an error answer in
    Telegram's shape, a dropped connection, or a body that is not JSON."""

    method: str
    status: int = 500
    description: str = "Internal Server Error"
    parameters: Json | None = None
    chat_id: int | None = None  # only requests to this chat; None: every request
    times: int | None = 1  # how many requests it answers; None: all of them
    disconnect: bool = False  # close the connection without an answer
    body: str | None = None  # answer with this text (status `status`) instead of JSON
    hits: int = 0

    def matches(self, call: ApiCall) -> bool:
        if call.method.lower() != self.method.lower():
            return False
        if self.chat_id is not None and call.chat_id != self.chat_id:
            return False
        return self.times is None or self.hits < self.times


class FakeTelegram(TelegramDriver):
    """A fake Telegram Bot API for one bot. See the module docstring for the test workflow."""

    def __init__(
        self,
        token: str,
        *,
        username: str = "funnel_sandbox_bot",
        first_name: str = "Funnel Sandbox",
        rate_limits: bool | RateLimits = False,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        bot: Json = {"id": bot_id, "is_bot": True, "first_name": first_name, "username": username}
        super().__init__(World(bot, now))
        self.calls: list[ApiCall] = []
        self.interceptors: list[Interceptor] = []
        self.faults: list[Fault] = []
        self.limiter: RateLimiter | None = None
        if rate_limits:
            limits = rate_limits if isinstance(rate_limits, RateLimits) else RateLimits()
            self.enforce_limits(RateLimiter(limits))
        self._methods: dict[str, tuple[str, Method]] = {
            name.lower(): (name, method)
            for table in (botmethods.METHODS, messages.METHODS, media.METHODS)
            for name, method in table.items()
        }

    @property
    def bot_user(self) -> Json:
        """The bot as a Telegram `User` object."""
        return self.world.bot

    # -- HTTP -------------------------------------------------------------------------
    def mount(self, app: web.Application, prefix: str = "") -> None:
        """Serve the Bot API at `{prefix}/bot{token}/{method}` (and files at
        `{prefix}/file/bot{token}/{path}`): aiogram's `TelegramAPIServer.from_base(base)`."""
        app.router.add_route("*", prefix + "/bot{token}/{method}", self._handle)
        app.router.add_get(prefix + "/file/bot{token}/{path:.+}", self._download)
        if prefix:
            app.router.add_route("*", prefix + "/{tail:.*}", self._not_found)
        app.on_shutdown.append(self._on_shutdown)

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Run on an aiohttp server of its own; yields the base URL for the Bot API."""
        app = web.Application()
        self.mount(app)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        try:
            yield f"http://{host}:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()

    def enforce_limits(self, limiter: RateLimiter | None = None) -> RateLimiter:
        """From now on answer sends over Telegram's flood limits with 429 (`retry_after`);
        returns the limiter, whose `violations` and `sent` tell how the bot behaved."""
        self.limiter = limiter or RateLimiter()
        if self._check_limits not in self.interceptors:
            self.interceptors.append(self._check_limits)
        return self.limiter

    def fail(
        self,
        method: str,
        status: int = 500,
        description: str = "Internal Server Error",
        *,
        parameters: Json | None = None,
        chat_id: int | None = None,
        times: int | None = 1,
        disconnect: bool = False,
        body: str | None = None,
    ) -> Fault:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) as told: with
        Telegram's error shape `{"ok": false, "error_code": status, "description": ...,
        "parameters": ...}`, or by dropping the connection (`disconnect`), or with a `body`
        that is not JSON (a proxy's error page). Returns the fault; `hits` counts its uses."""
        fault = Fault(method, status, description, parameters, chat_id, times, disconnect, body)
        self.faults.append(fault)
        return fault

    def _check_limits(self, call: ApiCall) -> None:
        if self.limiter is not None:
            self.limiter.check(call.method, call.chat_id)

    async def _on_shutdown(self, app: web.Application) -> None:
        self.world.close()  # long polls and live pages end now, not at their timeouts

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error(BotApiError(401, "Unauthorized"))
        found = self._methods.get(request.match_info["method"].lower())
        if found is None:
            return error(BotApiError(404, "Not Found: method not found"))
        name, method = found
        call = ApiCall(name, Params())
        try:
            call.params = await read_params(request)
            self.calls.append(call)
            self.world.changed()  # tests may wait for a call
            fault = next((f for f in self.faults if f.matches(call)), None)
            if fault is not None:
                return self._misbehave(request, call, fault)
            for intercept in self.interceptors:
                if inspect.isawaitable(outcome := intercept(call)):
                    await outcome
            result = await method(self.world, call.params)
        except BotApiError as exc:
            call.error_code = exc.code
            return error(exc)
        return ok(result)

    def _misbehave(self, request: web.Request, call: ApiCall, fault: Fault) -> web.Response:
        fault.hits += 1
        call.error_code = fault.status
        if fault.disconnect and request.transport is not None:
            request.transport.close()  # the client sees the connection drop
        if fault.body is not None or fault.disconnect:
            return web.Response(text=fault.body or "", status=fault.status)
        raise_as = BotApiError(fault.status, fault.description, parameters=fault.parameters)
        return error(raise_as)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return error(BotApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        for stored in self.world.files.values():
            if stored.path == path and stored.data:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return error(BotApiError(404, "Not Found"))

    async def _not_found(self, request: web.Request) -> web.StreamResponse:
        return error(BotApiError(404, "Not Found"))
