"""Composition root and command line: the only place that builds things; imports anything.

python main.py            start the service (bot, web server, scheduler)
python main.py migrate    apply database migrations
python main.py docs       regenerate docs/ from the code
python main.py users ...  list people, set roles, grant/withdraw capabilities (see --help)
python main.py leads ...  list the leads, export them as CSV (see --help)
python main.py webinar ... create, list, show, edit webinars; set their status (see --help)
python main.py backup --out FILE   a consistent copy while the service runs
python main.py restore FILE        replace the database with a backup (--force if not empty)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import secrets
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from cli import backup as backup_cli
from cli import leads as leads_cli
from cli import users as users_cli
from cli import webinars as webinars_cli
from core import db, logs
from core.clock import Clock, SystemClock
from core.hub import SignalHub
from core.lifecycle import Lifecycle
from core.links import Links
from core.settings import Settings, SettingsError, load_settings

# The service's Telegram side is imported where the service is built (`build`, `start`):
# importing aiogram takes seconds (its pydantic models), and the commands that never
# talk to Telegram (users, leads, webinar, migrate, backup) must answer at once.
if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiohttp import web
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.webhook import WebhookReceiver
    from bot.webinar_panels import ControlPanels
    from core.live import LiveRooms
    from core.presence import PresenceTracker
    from core.texts import Texts
    from delivery.sender import OutboxSender
    from scheduler import Waker
    from scheduler.engine import ScenarioEngine
    from web.operations import Probe

log = logging.getLogger("funnel")

SANDBOX_API_PREFIX = "/sandbox/botapi"


def new_sandbox_token() -> str:
    """A fresh token for the local fake Bot API: nobody can guess it to send as the bot."""
    return f"1000000001:{secrets.token_urlsafe(32)}"


@dataclass
class Runtime:
    """Everything one running process holds; built by `build`, run by `serve`."""

    settings: Settings
    clock: Clock
    hub: SignalHub
    links: Links
    texts: Texts
    engine: ScenarioEngine
    app: web.Application
    # The bot's token: BOT_TOKEN, or in sandbox mode the in-app fake's, new each process.
    bot_token: str
    bot: Bot | None = None
    dispatcher: Dispatcher | None = None
    scheduler: AsyncIOScheduler | None = None
    waker: Waker | None = None
    sender: OutboxSender | None = None
    # The speakers' /webinars messages that follow a live webinar's counts.
    panels: ControlPanels | None = None
    runner: web.AppRunner | None = None
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    webhook: WebhookReceiver | None = None  # webhook mode (TELEGRAM_WEBHOOK_URL)
    probe: Probe | None = None  # what /readyz asks of the bot (set by `build`)
    metrics_runner: web.AppRunner | None = None  # METRICS_PORT


def wire(
    settings: Settings,
    clock: Clock,
    hub: SignalHub,
    live: LiveRooms | None = None,
    presence: PresenceTracker | None = None,
) -> tuple[Links, Texts, ScenarioEngine]:
    """Subscribe the consumers to `hub`; raises `ScenarioError` when a scenario cannot run."""
    # Imported here: the consumers' whole graph, which the command line builds only when a
    # command publishes (`SignalHub.wire_later`).
    from core.live import LiveRooms
    from core.presence import PresenceTracker
    from core.texts import Texts
    from handlers import Deps, subscribe_all
    from handlers.scenarios import CONDITIONS, MOMENTS, SCENARIOS
    from handlers.webinar_scenarios import webinar_params
    from locales import load_catalogues
    from scheduler.engine import ScenarioEngine
    from scheduler.scenario import validate

    links = Links(
        base_url=settings.base_url, sandbox=settings.sandbox, secret_key=settings.secret_key
    )
    texts = Texts(load_catalogues(), settings.default_locale)
    validate(
        SCENARIOS, conditions=CONDITIONS, settings=settings, messages=texts.has, moments=MOMENTS
    )
    engine = ScenarioEngine(
        {s.name: s for s in SCENARIOS},
        conditions=CONDITIONS,
        hub=hub,
        clock=clock,
        settings=settings,
        translate=texts,
        moments=MOMENTS,
        params=webinar_params(links, texts),
    )
    deps = Deps(
        settings,
        clock,
        links,
        hub,
        engine,
        texts,
        live or LiveRooms(),
        presence if presence is not None else PresenceTracker(),
    )
    subscribe_all(hub, deps)
    return links, texts, engine


async def download_photo(bot: Bot, file_id: str) -> bytes:
    """A picture stored in Telegram (a speaker's approved photo), for the web pages."""
    file = await bot.get_file(file_id)
    if not file.file_path:
        raise LookupError(f"Telegram gave no path for {file_id}")
    data = await bot.download_file(file.file_path)
    assert data is not None  # without a destination aiogram returns the bytes
    return data.read()


def build(settings: Settings, clock: Clock) -> Runtime:
    """Wire everything; raises `ScenarioError` when a scenario definition cannot run."""
    from bot.webhook import WebhookReceiver, webhook_path, webhook_secret
    from core.live import LiveRooms
    from core.presence import PresenceTracker
    from web.app import create_app
    from web.operations import setup_operations

    hub = SignalHub(clock)
    live = LiveRooms()  # the rooms open in this process, fed by the hub's consumers
    presence = PresenceTracker()  # who is in which room: the web counts, the stop reads
    links, texts, engine = wire(settings, clock, hub, live, presence)
    app = create_app(settings, clock, hub, links, live, presence)
    token = settings.bot_token
    if settings.sandbox:
        from sandbox import FakeTelegram, setup_sandbox

        # The product's clock: the Mini App data it signs is as fresh as the product thinks.
        fake = FakeTelegram(token=new_sandbox_token(), now=clock.now)
        fake.mount(app, SANDBOX_API_PREFIX)
        setup_sandbox(app, fake, links)
        token = fake.token
    rt = Runtime(settings, clock, hub, links, texts, engine, app, token)
    rt.probe = setup_operations(app)  # /healthz, /readyz, /metrics, request timing
    if settings.telegram_webhook_url and not settings.sandbox:
        rt.webhook = WebhookReceiver(
            webhook_secret(settings.secret_key, settings.telegram_webhook_secret)
        )
        rt.webhook.mount(app, webhook_path(settings.telegram_webhook_url))
    return rt


async def start(rt: Runtime, *, api_base: str | None = None, token: str | None = None) -> None:
    """Open the database, serve HTTP, then start the hub, the scheduler and the bot.

    Each part declares its stop as it starts (`rt.lifecycle`): `stop` undoes them in
    reverse, and so does a start that fails half-way. `api_base` and `token` point the bot
    at another Bot API server (tests: a fake of their own) instead of Telegram or, in
    sandbox mode, the fake inside this app.
    """
    try:
        await _start(rt, api_base, token)
    except BaseException:
        await stop(rt)
        raise


async def _start(rt: Runtime, api_base: str | None, token: str | None) -> None:
    from aiohttp import web

    from bot.apimetrics import ApiCallMetrics
    from bot.replies import Replies
    from bot.setup import create_bot, create_dispatcher
    from bot.webhook import use_polling, use_webhook, webhook_secret
    from bot.webinar_panels import ControlPanels
    from core.retention import run_retention
    from delivery.sender import OutboxSender
    from handlers.broadcasts import update_broadcast_progress
    from scheduler import Waker, create_scheduler, schedule_daily
    from scheduler.auto import AutoSessions
    from web import keys as web_keys
    from web.deadlines import runner_options
    from web.operations import serve_metrics

    settings, parts = rt.settings, rt.lifecycle
    await db.open_database(settings.database_url)
    parts.on_stop("database", db.close_database)
    rt.runner = web.AppRunner(rt.app, access_log=None, **runner_options(settings))
    await rt.runner.setup()
    parts.on_stop("web server", rt.runner.cleanup)
    site = web.TCPSite(rt.runner, settings.web_host, settings.web_port)
    await site.start()
    port = rt.runner.addresses[0][1]
    if not settings.public_url:  # the real port, when WEB_PORT=0 asked for any free one
        rt.links.base_url = settings.base_url.rsplit(":", 1)[0] + f":{port}"
    if settings.sandbox and api_base is None:
        # This machine, over whichever IP version the server listens on.
        host = "[::1]" if ":" in rt.runner.addresses[0][0] else "127.0.0.1"
        api_base = f"http://{host}:{port}{SANDBOX_API_PREFIX}"
    rt.bot = create_bot(
        token or rt.bot_token, api_base if api_base is not None else settings.telegram_api_base
    )
    parts.on_stop("bot session", rt.bot.session.close)
    rt.app[web_keys.MINI_APP].bot_token = rt.bot.token  # Mini App sign-in checks its data
    api_calls = ApiCallMetrics(rt.clock)
    api_calls.install(rt.bot)
    if rt.probe is not None:
        rt.probe.bot_last_ok, rt.probe.bot_polls = (lambda: api_calls.last_ok), rt.webhook is None
    if settings.metrics_port:
        rt.metrics_runner = await serve_metrics(rt.app, settings.web_host, settings.metrics_port)
        parts.on_stop("metrics server", rt.metrics_runner.cleanup)
    me = await rt.bot.get_me()
    rt.app[web_keys.PHOTOS].fetch = partial(download_photo, rt.bot)
    rt.links.bot_username = me.username or ""
    rt.sender = OutboxSender(rt.bot, rt.hub, rt.clock, settings)
    replies = Replies(rt.hub, rt.clock, rt.sender.notify)
    rt.dispatcher = create_dispatcher(
        settings, rt.clock, rt.hub, rt.links, rt.texts, rt.engine, replies
    )
    live = rt.app[web_keys.LIVE]
    rt.panels = ControlPanels(rt.clock, replies, rt.texts, rt.links, live, settings.timezone)
    rt.dispatcher["webinar_panels"] = rt.panels  # workflow data, by parameter name
    await rt.engine.recover()
    await rt.hub.start()
    parts.on_stop("hub", rt.hub.stop)
    rt.scheduler = create_scheduler(
        rt.hub,
        broadcast_progress=partial(update_broadcast_progress, rt.hub, rt.clock, rt.texts),
    )
    schedule_daily(rt.scheduler, partial(run_retention, rt.clock, settings), job_id="retention")
    rt.scheduler.start()
    parts.on_stop("scheduler", partial(rt.scheduler.shutdown, wait=False))
    rt.waker = Waker(rt.engine.tick, rt.engine.next_due, rt.clock)
    rt.engine.on_schedule = rt.waker.schedule
    parts.task("waker", rt.waker.run())  # overdue steps run at once
    auto = AutoSessions(rt.hub, rt.clock)  # AUTO sessions: planned, started, finished
    parts.task("auto sessions", Waker(auto.tick, auto.next_due, rt.clock).run())
    # Stopped after its loop: messages already handed to Telegram get their rows marked.
    parts.on_stop("sends in flight", rt.sender.finish_inflight)
    parts.task("sender", rt.sender.run())
    parts.task("panels", rt.panels.run())  # it edits through the outbox
    if rt.webhook is not None:
        rt.webhook.attach(rt.dispatcher, rt.bot)
        parts.on_stop("webhook updates", rt.webhook.finish)  # answered ones are handled
        secret = webhook_secret(settings.secret_key, settings.telegram_webhook_secret)
        await use_webhook(rt.bot, rt.dispatcher, settings.telegram_webhook_url, secret)
        return
    await use_polling(rt.bot)  # after webhook mode: what Telegram holds comes by polling
    polling = rt.dispatcher.start_polling(rt.bot, handle_signals=False, close_bot_session=False)
    parts.task("polling", polling, cancel=False)  # ends by itself once told to stop
    parts.on_stop("polling", partial(_stop_polling, rt.dispatcher))


async def _stop_polling(dispatcher: Dispatcher) -> None:
    with contextlib.suppress(RuntimeError):  # polling had not begun yet
        await dispatcher.stop_polling()


async def stop(rt: Runtime) -> None:
    """Stop what `start` started, in reverse, each part within a bounded wait."""
    await rt.lifecycle.stop()


async def serve(settings: Settings) -> None:
    from scheduler.scenario import ScenarioError

    await db.migrate(settings.database_url)
    try:
        rt = build(settings, SystemClock())
    except ScenarioError as exc:
        raise SystemExit(f"scenario error: {exc}") from None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await start(rt)
    # Everything built so far lives as long as the process: moving it out of the
    # collector's sight shortens full collections, the cause of the latency tail under
    # load (p99 225 → ~60 ms in bench/ingest.py; docs/performance.md).
    gc.freeze()
    mode = "sandbox (no BOT_TOKEN: a local fake Telegram)" if settings.sandbox else "Telegram"
    print(f"Webinar funnel is running — bot: @{rt.links.bot_username} via {mode}")
    print(f"  registration form: {settings.base_url}/")
    if settings.sandbox:
        print(f"  Telegram sandbox:  {settings.base_url}/sandbox")
    print("  stop with Ctrl+C", flush=True)
    await stopping.wait()
    print("stopping…", flush=True)
    await stop(rt)


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(serve(settings))
    return 0


def _cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(db.migrate(settings.database_url))
    print("database is up to date")
    return 0


def _cmd_docs(settings: Settings, args: argparse.Namespace) -> int:
    from docsgen import write_docs

    paths = write_docs(check=args.check)
    for path in paths:
        print(("out of date: " if args.check else "wrote ") + str(path))
    return 1 if args.check and paths else 0  # `--check` fails a CI step when docs lag


def _cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    if args.users_command is None:
        args.users_parser.print_help()
        return 2
    return asyncio.run(_with_database(settings, args, args.users_command))


def _cmd_leads(settings: Settings, args: argparse.Namespace) -> int:
    if args.leads_command is None:
        args.leads_parser.print_help()
        return 2
    return asyncio.run(_with_database(settings, args, args.leads_command))


def _cmd_webinar(settings: Settings, args: argparse.Namespace) -> int:
    if args.webinar_command is None:
        args.webinar_parser.print_help()
        return 2
    return asyncio.run(_with_database(settings, args, args.webinar_command))


async def _with_database(
    settings: Settings, args: argparse.Namespace, command: users_cli.UsersCommand
) -> int:
    # Safe while the service runs (SQLite in WAL mode). The hub only stores: its
    # subscriptions give each event its delivery rows, and the service delivers them.
    await db.migrate(settings.database_url)
    await db.open_database(settings.database_url)
    try:
        clock = SystemClock()
        hub = SignalHub(clock, dispatch=False)
        hub.wire_later(partial(wire, settings, clock, hub))  # only if the command publishes
        return int(await command(args, settings, hub, clock))
    finally:
        await db.close_database()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Telegram-first webinar funnel")
    parser.set_defaults(func=_cmd_run)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    sub.add_parser("run", help="start the service (default)").set_defaults(func=_cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)
    docs = sub.add_parser("docs", help="regenerate docs/ from the code")
    docs.add_argument("--check", action="store_true", help="only list documents out of date")
    docs.set_defaults(func=_cmd_docs)
    users_cli.add_parser(sub)
    sub.choices["users"].set_defaults(func=_cmd_users)
    leads_cli.add_parser(sub)
    sub.choices["leads"].set_defaults(func=_cmd_leads)
    webinars_cli.add_parser(sub)
    sub.choices["webinar"].set_defaults(func=_cmd_webinar)
    backup_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure()
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    # The service logs its events; a command's output is its answer (a CSV on stdout,
    # a message), with only problems on stderr.
    quiet = args.func is not _cmd_run
    logs.configure(settings.log_format, level=logging.WARNING if quiet else logging.INFO)
    try:
        return int(args.func(settings, args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
