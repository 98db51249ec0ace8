"""The fake's webhook: with one set, updates are POSTed to it as Telegram does.

`setWebhook(url, secret_token, allowed_updates)` makes the fake push each waiting update,
in order, as a JSON body with the header `X-Telegram-Bot-Api-Secret-Token`, and forget it
only once answered 2xx; a refused or failed push is retried (Telegram backs off for
longer; the fake after a moment), and its error shows in `getWebhookInfo`. While a webhook
is set, `getUpdates` is refused with 409, as Telegram refuses it; `deleteWebhook` stops the
pushing and leaves what is waiting for `getUpdates` (unless `drop_pending_updates`). So a
bot switched between polling and webhooks is tested over the real protocol, both ways.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import aiohttp

from sandbox.protocol import BotApiError, Json, Params, bad_request
from sandbox.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
RETRY_SECONDS = 0.2
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


@dataclass
class Webhook:
    url: str = ""
    secret: str = ""
    last_error_date: int | None = None
    last_error_message: str | None = None
    pushed: int = 0  # updates answered 2xx (tests)
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def webhook_of(world: World) -> Webhook:
    hook = getattr(world, "webhook", None)
    if hook is None:
        hook = Webhook()
        world.webhook = hook  # type: ignore[attr-defined]
    return hook


def refuse_polling_while_set(world: World) -> None:
    if webhook_of(world).url:
        raise BotApiError(409, WEBHOOK_CONFLICT)


async def set_webhook(world: World, p: Params) -> bool:
    url = p.text("url")
    if not url:
        return await delete_webhook(world, p)
    if not url.startswith(("https://", "http://")):
        raise bad_request("bad webhook: HTTPS URL must be provided for webhook")
    allowed = p.obj("allowed_updates")
    if allowed is not None:
        world.allowed_updates = frozenset(allowed) or None
    if p.flag("drop_pending_updates"):
        world.updates.clear()
    hook = webhook_of(world)
    hook.url, hook.secret = url, p.text("secret_token")
    if hook.task is None or hook.task.done():
        hook.task = asyncio.create_task(_push(world, hook))
    world.changed()
    return True


async def delete_webhook(world: World, p: Params) -> bool:
    hook = webhook_of(world)
    hook.url = ""
    if hook.task is not None:
        hook.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hook.task
        hook.task = None
    if p.flag("drop_pending_updates"):
        world.updates.clear()
    world.changed()
    return True


async def get_webhook_info(world: World, p: Params) -> Json:
    hook = webhook_of(world)
    info: Json = {
        "url": hook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if hook.url and world.allowed_updates:
        info["allowed_updates"] = sorted(world.allowed_updates)
    if hook.last_error_date is not None:
        info["last_error_date"] = hook.last_error_date
        info["last_error_message"] = hook.last_error_message
    return info


async def _push(world: World, hook: Webhook) -> None:
    """Deliver the waiting updates one at a time, oldest first, until the hook is gone."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        while hook.url and not world.closed:
            await world.wait_until(lambda: world.updates or world.closed or not hook.url)
            if world.closed or not hook.url or not world.updates:
                continue
            update = world.updates[0]
            headers = {SECRET_HEADER: hook.secret} if hook.secret else {}
            try:
                async with session.post(hook.url, json=update, headers=headers) as resp:
                    ok = 200 <= resp.status < 300
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                ok, error = False, f"Connection failed: {type(exc).__name__}"
            if ok:
                world.confirm(update["update_id"] + 1)
                hook.pushed += 1
                world.changed()
            else:
                hook.last_error_date = int(world.now())
                hook.last_error_message = error
                await asyncio.sleep(RETRY_SECONDS)
