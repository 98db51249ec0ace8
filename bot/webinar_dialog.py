"""The guided dialog that creates or edits a webinar, one question at a time.

For holders of `webinar_create`. Each answer is checked at once by `core/webinar_rules`
(`check_step`: the functions the command line's `create`/`edit` run), so a wrong value is
refused in the same words, with the same question asked again. The answers so far live
in the user's prompt row (`bot/prompts.py`, like a lead note), so the dialog survives a
restart and `/cancel` drops it. After the last step a preview offers Create (Save),
Edit (the questions again, the answers as defaults) and Cancel; only Create calls the
Core command, which checks the whole draft once more. Editing is the same dialog started
with the webinar's current values, asking only what its status still lets change.

The last questions are the attendance rule (the share of the live time, then the
minutes) and the reminders before the start, as `webinar create/edit --attend-percent
--attend-minutes --reminders` take them; a new webinar's dialog offers the defaults
(`-` keeps them).
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Final
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.access import allowed, refusal
from bot.context import Translate
from bot.prompts import ask, on_prompt
from bot.replies import Reply
from bot.routes import Routes
from core.clock import Clock
from core.hub import SignalHub
from core.links import Links
from core.roles import Capability
from core.settings import Settings
from core.telegram_limits import fit_plain
from core.users import NotAllowed
from core.webinar_rules import (
    DEFAULT_ATTEND_MINUTES,
    DEFAULT_ATTEND_PERCENT,
    STEP_FIELDS,
    WebinarDraft,
    WebinarInvalid,
    check_step,
    reminders_text,
    split_start,
)
from core.webinars import EDITABLE, create_webinar, edit_webinar
from delivery.callbacks import WebinarDialog
from delivery.outbox import Button, Buttons
from locales import N_
from models import BotPrompt, StreamType, User, Webinar, WebinarStatus
from models.webinars import DEFAULT_REMINDER_OFFSETS

router: Final[Routes] = Routes(__name__)

NEED = Capability.WEBINAR_CREATE
KIND = "webinar_draft"
STEPS = tuple(STEP_FIELDS)
SHOWN = 300  # characters of a current value quoted in a question
QUESTIONS = {
    "title": N_("The webinar's title?"),
    "description": N_("A description for the public page (- for none)."),
    "start": N_(
        "When does it start? Date and time, e.g. 2027-02-01 19:00, optionally followed by "
        "a time zone such as Asia/Yekaterinburg (otherwise {tz})."
    ),
    "duration": N_("How long is it planned to last, in minutes?"),
    "stream_type": N_("The stream type: obs (our player and chat), zoom or telegram?"),
    "stream_url": N_(
        "The stream's address: for obs the player, the .m3u8 or an embed page; for zoom "
        "or telegram the join link."
    ),
    "recording_url": N_("The recording's address, if there is one (0 for none)."),
    "chat": N_("The room's internal chat: on or off? (Only obs webinars have one.)"),
    "attend_percent": N_(
        "Who counts as attended: present at least what share of the live time, in % (1 to 100)?"
    ),
    "attend_minutes": N_("… or present at least how many minutes (0: the share alone decides)?"),
    "reminders": N_(
        "Reminders before the start, e.g. 24h,1h,10m (at most five, each from 1m to 14d), "
        "or off for none?"
    ),
}
LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "start": N_("Start"),
    "duration": N_("Duration, min"),
    "stream_type": N_("Stream type"),
    "stream_url": N_("Stream address"),
    "recording_url": N_("Recording"),
    "chat": N_("Internal chat"),
    "attend_percent": N_("Attended: share of the live time, %"),
    "attend_minutes": N_("… or minutes present"),
    "reminders": N_("Reminders before the start"),
}
# What a new webinar gets unless the dialog's answer says otherwise.
DEFAULTS = {
    "attend_percent": str(DEFAULT_ATTEND_PERCENT),
    "attend_minutes": str(DEFAULT_ATTEND_MINUTES),
    "reminders": reminders_text(DEFAULT_REMINDER_OFFSETS),
}


def current_values(webinar: Webinar) -> dict[str, str]:
    """The webinar as the dialog's answers (what the command line would take)."""
    local = datetime.fromtimestamp(webinar.starts_at, ZoneInfo(webinar.tz))
    return {
        "title": webinar.title,
        "description": webinar.description,
        "start": f"{local:%Y-%m-%d %H:%M}",
        "tz": webinar.tz,
        "duration": str(webinar.duration_min),
        "stream_type": StreamType(webinar.stream_type).value,
        "stream_url": webinar.stream_url,
        "recording_url": webinar.recording_url or "",
        "chat": "on" if webinar.chat_enabled else "off",
        "attend_percent": str(webinar.attend_min_percent),
        "attend_minutes": str(webinar.attend_min_minutes),
        "reminders": reminders_text(webinar.reminders),
    }


def steps_for(webinar: Webinar | None) -> tuple[str, ...]:
    """The questions: all of them for a new webinar; what its status lets change else."""
    if webinar is None:
        return STEPS
    editable = EDITABLE[WebinarStatus(webinar.status)]
    return tuple(s for s in STEPS if set(STEP_FIELDS[s]) <= editable)


def _shown(step: str, values: dict[str, str]) -> str:
    if step == "start":
        return f"{values.get('start', '')} ({values.get('tz', '')})"
    return fit_plain(values.get(step, ""), SHOWN) or "—"


def question(step: str, data: dict[str, Any], t: Translate, settings: Settings) -> str:
    steps, values = data["steps"], data["values"]
    head = t(N_("Step {n} of {total}.")).format(n=steps.index(step) + 1, total=len(steps))
    text = t(QUESTIONS[step]).format(tz=values.get("tz") or settings.timezone)
    lines = [f"<b>{html.escape(head)}</b> {html.escape(text)}"]
    if step in values:
        now = t(N_("Now: {value}. Send - to keep it.")).format(value=_shown(step, values))
        lines.append(html.escape(now))
    lines.append(html.escape(t(N_("/cancel stops the dialog."))))
    return "\n".join(lines)


def _answer(step: str, text: str, values: dict[str, str], default_tz: str) -> dict[str, str]:
    """The answers with this one taken in ("-" keeps what there is)."""
    new = dict(values)
    if text == "-" and step in values:
        return new
    if step == "start":
        new["start"], new["tz"] = split_start(text, values.get("tz") or default_tz)
    elif (step == "description" and text == "-") or (
        step == "recording_url" and text in ("-", "0")
    ):
        new[step] = ""
    elif step in ("stream_type", "chat", "reminders"):
        new[step] = text.strip().lower()
    else:
        new[step] = text
    return new


async def _begin(
    user: User, webinar: Webinar | None, t: Translate, reply: Reply, clock: Clock, s: Settings
) -> None:
    steps = steps_for(webinar)
    if not steps:
        await reply(html.escape(t(N_("This webinar can no longer be edited."))))
        return
    values = current_values(webinar) if webinar else dict(DEFAULTS)
    data = {
        "step": steps[0],
        "steps": list(steps),
        "values": values,
        "original": dict(values),
        "webinar_id": webinar.id if webinar else 0,
    }
    await ask(clock, user, KIND, **data)
    await reply(question(steps[0], data, t, s))


@router.message(Command("newwebinar"))
async def new_webinar(
    message: Message, user: User, t: Translate, reply: Reply, clock: Clock, settings: Settings
) -> None:
    if await allowed(user, NEED, t, reply):
        await _begin(user, None, t, reply, clock, settings)


@on_prompt(KIND)
async def step_answer(
    message: Message, user: User, text: str, data: dict[str, Any], wf: dict[str, Any]
) -> None:
    t: Translate = wf["t"]
    reply: Reply = wf["reply"]
    clock: Clock = wf["clock"]
    settings: Settings = wf["settings"]
    if not await allowed(user, NEED, t, reply):
        return
    step = data.get("step", "")
    if step == "preview":
        await ask(clock, user, KIND, **data)
        await reply(html.escape(t(N_("Use the buttons under the preview, or /cancel."))))
        return
    values = _answer(step, text, data.get("values", {}), settings.timezone)
    try:
        check_step(step, values, clock.now())
    except WebinarInvalid as exc:
        await ask(clock, user, KIND, **data)  # the same question again
        await reply(f"⚠️ {html.escape(exc.text(t))}\n\n{question(step, data, t, settings)}")
        return
    data = {**data, "values": values}
    steps: list[str] = data["steps"]
    if step != steps[-1]:
        data["step"] = steps[steps.index(step) + 1]
        await ask(clock, user, KIND, **data)
        await reply(question(data["step"], data, t, settings))
        return
    data["step"] = "preview"
    await ask(clock, user, KIND, **data)
    await reply(*preview(data, t))


def preview(data: dict[str, Any], t: Translate) -> tuple[str, Buttons]:
    values = data["values"]
    head = t(N_("Edit the webinar?")) if data.get("webinar_id") else t(N_("Create the webinar?"))
    lines = [f"<b>{html.escape(head)}</b>", ""]
    for step in data["steps"]:
        lines.append(f"{html.escape(t(LABELS[step]))}: {html.escape(_shown(step, values))}")

    def button(label: str, action: str) -> Button:
        wid = int(data.get("webinar_id") or 0)
        return Button(label, callback=WebinarDialog(action=action, webinar_id=wid).pack())  # type: ignore[arg-type]

    save = t(N_("Save")) if data.get("webinar_id") else t(N_("Create"))
    buttons = (
        (button("✅ " + save, "save"), button("✏️ " + t(N_("Edit")), "again")),
        (button("✖️ " + t(N_("Cancel")), "drop"),),
    )
    return "\n".join(lines), buttons


@router.callback_query(WebinarDialog.filter())
async def dialog_button(
    query: CallbackQuery,
    callback_data: WebinarDialog,
    user: User,
    t: Translate,
    reply: Reply,
    clock: Clock,
    hub: SignalHub,
    settings: Settings,
    links: Links,
) -> None:
    if not await allowed(user, NEED, t, query):
        return
    action = callback_data.action
    if action in ("new", "edit"):
        webinar = None
        if action == "edit":
            webinar = await Webinar.get_or_none(id=callback_data.webinar_id)
            if webinar is None:
                await query.answer(t(N_("This button is not valid.")), show_alert=True)
                return
        await query.answer()
        await _begin(user, webinar, t, reply, clock, settings)
        return
    prompt = await BotPrompt.get_or_none(user_id=user.id, kind=KIND)
    data = dict(prompt.data) if prompt else {}
    if prompt is None or data.get("step") != "preview" or query.message is None:
        await query.answer(t(N_("That question has expired. Please start again.")), show_alert=True)
        return
    message_id = query.message.message_id
    if action == "again":
        data["step"] = data["steps"][0]
        await ask(clock, user, KIND, **data)
        await query.answer()
        await reply(question(data["step"], data, t, settings))
        return
    if not await BotPrompt.filter(id=prompt.id).delete():  # pressed twice at once
        await query.answer(t(N_("That question has expired. Please start again.")), show_alert=True)
        return
    if action == "drop":
        await reply.edit(message_id, html.escape(t(N_("Cancelled. Nothing was saved."))))
        await query.answer()
        return
    await _save(query, data, user, t, reply, clock, hub, settings, links)


async def _save(
    query: CallbackQuery,
    data: dict[str, Any],
    user: User,
    t: Translate,
    reply: Reply,
    clock: Clock,
    hub: SignalHub,
    settings: Settings,
    links: Links,
) -> None:
    assert query.message is not None
    values: dict[str, str] = data["values"]
    webinar_id = int(data.get("webinar_id") or 0)
    try:
        if webinar_id:
            original = data.get("original", {})
            given = {k: v for k, v in values.items() if original.get(k) != v}
            if {"start", "tz"} & set(given):  # a local time means nothing without its zone
                given |= {"start": values["start"], "tz": values["tz"]}
            webinar, _ = await edit_webinar(
                hub, clock, webinar_id, WebinarDraft(**given), actor=user
            )
            done = t(N_("Saved: “{title}”."))
        else:
            # An answer left at its default is not given: the webinar keeps following the
            # defaults, as one made with the command line without these options does.
            draft = WebinarDraft(**{k: v for k, v in values.items() if DEFAULTS.get(k) != v})
            webinar = await create_webinar(
                hub, clock, draft, actor=user, default_tz=settings.timezone
            )
            done = t(N_("Created: “{title}”."))
    except WebinarInvalid as exc:  # e.g. the start time has passed since it was typed
        step = next((s for s, f in STEP_FIELDS.items() if exc.field in f), data["steps"][0])
        if step not in data["steps"]:
            step = data["steps"][0]
        data["step"] = step
        await ask(clock, user, KIND, **data)
        await query.answer()
        await reply(f"⚠️ {html.escape(exc.text(t))}\n\n{question(step, data, t, settings)}")
        return
    except NotAllowed:
        await query.answer(refusal(t, NEED), show_alert=True)
        return
    page = f"{links.base_url}/w/{quote(webinar.slug)}"
    text = f"{html.escape(done.format(title=webinar.title))}\n{html.escape(page)}"
    await reply.edit(query.message.message_id, text)
    await query.answer()
