"""Core commands on `webinar_event`: create, edit, `core_webinar_set_status`, register.

Every entry point (the command line, the bot, the scheduler for AUTO sessions, the web
form) calls these; none changes a webinar on its own. Each change is stored with its
event in one transaction. A user actor is checked for the capability the command needs
(`actor=None` is the system: the command line and the scheduler).

Status changes are compare-and-set: the UPDATE names the status it expects to leave, so a
double press or two speakers pressing at once make one transition; the other is told
who made it (`Outcome.ALREADY`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient

from core.actors import actor_name
from core.bulk import insert_rows
from core.clock import Clock
from core.events import (
    ClientWebinarRegistered,
    CoreWebinarCreated,
    CoreWebinarSetStatus,
    CoreWebinarUpdated,
)
from core.hub import Publisher, SignalHub
from core.roles import Capability, can
from core.users import NotAllowed
from core.webinar_rules import (
    DESCRIPTION_MAX,
    DURATION_MAX_MIN,
    WebinarDraft,
    WebinarInvalid,
    check_chat,
    check_stream_url,
    clean_text,
    parse_attend_minutes,
    parse_attend_percent,
    parse_int,
    parse_reminders,
    parse_slug,
    parse_start,
    parse_stream_type,
    parse_title,
    parse_tz,
    parse_url,
    slug_base,
)
from locales import N_
from models import (
    AutoSeries,
    Role,
    StreamType,
    User,
    Webinar,
    WebinarRegistration,
    WebinarStatus,
)

# What may follow what. A live webinar is stopped (finished), not cancelled.
TRANSITIONS: Mapping[WebinarStatus, frozenset[WebinarStatus]] = {
    WebinarStatus.SCHEDULED: frozenset({WebinarStatus.LIVE, WebinarStatus.CANCELLED}),
    WebinarStatus.LIVE: frozenset({WebinarStatus.FINISHED}),
    WebinarStatus.FINISHED: frozenset(),
    WebinarStatus.CANCELLED: frozenset(),
}
# Fields that may change in each status (the recording is added after the webinar; the
# attendance rule is applied at the stop, so a speaker may still adjust it while live).
EDITABLE: Mapping[WebinarStatus, frozenset[str]] = {
    WebinarStatus.SCHEDULED: frozenset(WebinarDraft().__dict__) - {"given"},
    WebinarStatus.LIVE: frozenset(
        {"title", "description", "stream_url", "recording_url", "chat", "speaker"}
        | {"attend_percent", "attend_minutes"}
    ),
    WebinarStatus.FINISHED: frozenset({"title", "description", "recording_url"}),
    WebinarStatus.CANCELLED: frozenset(),
}
REQUIRED = ("title", "start", "duration", "stream_type", "stream_url")


class Outcome(StrEnum):
    APPLIED = "applied"
    ALREADY = "already"  # the webinar already has that status (someone else was first)
    ILLEGAL = "illegal"  # not a legal transition from the current status


@dataclass(frozen=True)
class StatusChange:
    outcome: Outcome
    webinar: Webinar
    # Who made the webinar's current status (ALREADY), None for the system.
    by: User | None = None
    # Why not (ILLEGAL): a msgid with {status}.
    reason: str = ""


async def find_webinar(ref: str | int) -> Webinar | None:
    """A webinar by its slug or its id (as the events carry it, a string of digits)."""
    text = str(ref).strip()
    if text.isdigit():
        found = await Webinar.get_or_none(id=int(text))
        if found is not None:
            return found
    return await Webinar.get_or_none(slug=text.lower()) if text else None


async def require_capability(actor: User | None, capability: Capability) -> str:
    if actor is not None and not await can(actor, capability):
        raise NotAllowed(capability)
    return actor_name(actor)


async def _speaker(conn: BaseDBAsyncClient, clock: Clock, telegram_id: str) -> User:
    try:
        tid = int(telegram_id.strip())
        if not 0 < tid < 2**63:
            raise ValueError
    except ValueError:
        raise WebinarInvalid(
            "speaker", N_("{value!r} is not a Telegram id (a positive number)"), value=telegram_id
        ) from None
    # A host who has not opened the bot yet gets their row now, as `users set-role` does.
    now = clock.now()
    user, _ = await User.get_or_create(
        telegram_id=tid,
        defaults={"created_at": now, "updated_at": now, "role": Role.CANDIDATE},
        using_db=conn,
    )
    return user


def _values(draft: WebinarDraft, current: Webinar | None, now: float) -> dict[str, Any]:
    """The checked values of every field `draft` gives (plus what a given one implies)."""
    given = draft.given
    values: dict[str, Any] = {}
    if "title" in given:
        values["title"] = parse_title(draft.title or "")
    if "description" in given:
        values["description"] = clean_text(
            draft.description or "", DESCRIPTION_MAX, "description", multiline=True
        )
    tz = parse_tz(draft.tz) if draft.tz is not None else (current.tz if current else None)
    if "tz" in given:
        values["tz"] = tz
    if "start" in given:
        if tz is None:
            raise WebinarInvalid("tz", N_("a time zone is needed"))
        values["starts_at"] = parse_start(draft.start or "", tz, now)
    if "duration" in given:
        values["duration_min"] = parse_int(draft.duration or "", "duration", 1, DURATION_MAX_MIN)
    if "attend_percent" in given:
        values["attend_min_percent"] = parse_attend_percent(draft.attend_percent or "")
    if "attend_minutes" in given:
        values["attend_min_minutes"] = parse_attend_minutes(draft.attend_minutes or "")
    stream_type = (
        parse_stream_type(draft.stream_type)
        if draft.stream_type is not None
        else (StreamType(current.stream_type) if current else None)
    )
    if stream_type is not None and ({"stream_type", "stream_url", "chat"} & given):
        url = (
            parse_url(draft.stream_url, "stream_url")
            if draft.stream_url is not None
            else (current.stream_url if current else "")
        )
        values["stream_type"] = stream_type
        values["stream_url"] = check_stream_url(stream_type, url)
        keep_chat = None if current is None or "chat" in given else current.chat_enabled
        chat = draft.chat if draft.chat is not None else _chat_word(keep_chat, stream_type)
        values["chat_enabled"] = check_chat(stream_type, chat)
    if "reminders" in given:
        values["reminder_offsets"] = parse_reminders(draft.reminders or "")
    if "recording_url" in given:
        url = (draft.recording_url or "").strip()
        values["recording_url"] = parse_url(url, "recording_url") if url else None
    if "slug" in given:
        values["slug"] = parse_slug(draft.slug or "")
    return values


def _chat_word(kept: bool | None, stream_type: StreamType) -> str | None:
    # An edit that changes the stream type to zoom drops the internal chat by itself.
    if kept is None or stream_type is not StreamType.OBS:
        return None
    return "on" if kept else "off"


# `/w/<slug>` is one namespace for webinars (sessions included) and AUTO series.
SLUG_OWNERS: tuple[type[Webinar] | type[AutoSeries], ...] = (Webinar, AutoSeries)


async def slug_taken(conn: BaseDBAsyncClient, slug: str) -> bool:
    """Whether `/w/<slug>` is a webinar's or an AUTO series' already."""
    for model in SLUG_OWNERS:
        if await model.filter(slug=slug).using_db(conn).exists():
            return True
    return False


async def unique_slug(conn: BaseDBAsyncClient, base: str) -> str:
    """`base`, or `base-2`, `base-3`…: the first that neither a webinar nor a series has."""
    taken: set[str] = set()
    for model in SLUG_OWNERS:
        query = model.filter(slug__startswith=base).using_db(conn)
        taken |= set(cast("list[str]", await query.values_list("slug", flat=True)))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def create_webinar(
    hub: SignalHub, clock: Clock, draft: WebinarDraft, *, actor: User | None, default_tz: str
) -> Webinar:
    """A new scheduled live webinar from `draft` (`webinar_create`); emits core_webinar_created."""
    who = await require_capability(actor, Capability.WEBINAR_CREATE)
    for name in REQUIRED:
        if name not in draft.given:
            raise WebinarInvalid(name, N_("this is needed"))
    if draft.tz is None:
        draft.tz = default_tz
        draft.given.add("tz")
    now = clock.now()
    values = _values(draft, None, now)
    async with hub.transaction() as tx:
        conn = tx.connection
        if "slug" in values:
            if await slug_taken(conn, values["slug"]):
                raise WebinarInvalid("slug", N_("this slug is taken"))
        else:
            base = slug_base(values["title"], values["starts_at"], values["tz"])
            values["slug"] = await unique_slug(conn, base)
        if draft.speaker is not None and draft.speaker.strip():
            values["speaker_id"] = (await _speaker(conn, clock, draft.speaker)).id
        webinar = Webinar(**values, created_at=now, updated_at=now)
        await webinar.save(using_db=conn)
        await tx.publish(
            CoreWebinarCreated(
                timestamp=int(now),
                webinar_id=webinar.webinar_id,
                slug=webinar.slug,
                title=webinar.title,
                starts_at=int(webinar.starts_at),
                stream_type=StreamType(webinar.stream_type).value,
                actor=who,
                actor_user_id=actor.id if actor else None,
            )
        )
    return webinar


async def edit_webinar(
    hub: SignalHub, clock: Clock, webinar_id: int, draft: WebinarDraft, *, actor: User | None
) -> tuple[Webinar, list[str]]:
    """Change what `draft` gives (`webinar_create`); the webinar and the changed fields.

    A new start time is an event with `previous_starts_at`: reminders and notices that
    hang on the start follow it. Nothing changed → no event.
    """
    who = await require_capability(actor, Capability.WEBINAR_CREATE)
    now = clock.now()
    async with hub.transaction() as tx:
        conn = tx.connection
        webinar = await Webinar.get(id=webinar_id, using_db=conn)
        status = WebinarStatus(webinar.status)
        frozen = sorted(draft.given - EDITABLE[status])
        if frozen:
            raise WebinarInvalid(
                frozen[0], N_("cannot be changed on a {status} webinar"), status=status.value
            )
        values = _values(draft, webinar, now)
        if "speaker" in draft.given:
            speaker = (draft.speaker or "").strip()
            values["speaker_id"] = (await _speaker(conn, clock, speaker)).id if speaker else None
        if values.get("slug", webinar.slug) != webinar.slug and await slug_taken(
            conn, values["slug"]
        ):
            raise WebinarInvalid("slug", N_("this slug is taken"))
        changed = sorted(k for k, v in values.items() if getattr(webinar, k) != v)
        if not changed:
            return webinar, []
        previous_start = webinar.starts_at
        for name in changed:
            setattr(webinar, name, values[name])
        webinar.updated_at = now
        await webinar.save(using_db=conn, update_fields=[*changed, "updated_at"])
        await tx.publish(
            CoreWebinarUpdated(
                timestamp=int(now),
                webinar_id=webinar.webinar_id,
                changed=changed,
                starts_at=int(webinar.starts_at),
                previous_starts_at=int(previous_start) if "starts_at" in changed else None,
                actor=who,
                actor_user_id=actor.id if actor else None,
            )
        )
    return webinar, changed


ILLEGAL_REASONS: Mapping[tuple[WebinarStatus, WebinarStatus], str] = {
    (WebinarStatus.SCHEDULED, WebinarStatus.FINISHED): N_(
        "It has not started yet: start it first, or cancel it."
    ),
    (WebinarStatus.LIVE, WebinarStatus.CANCELLED): N_(
        "It is live: stop it instead (the webinar then counts as held)."
    ),
    (WebinarStatus.LIVE, WebinarStatus.SCHEDULED): N_("A webinar cannot go back to scheduled."),
}


def illegal_reason(current: WebinarStatus, wanted: WebinarStatus) -> str:
    if current in (WebinarStatus.FINISHED, WebinarStatus.CANCELLED):
        return N_("It is {status} already: nothing can change its status any more.")
    return ILLEGAL_REASONS.get((current, wanted), N_("It cannot go from {status} to that."))


async def set_status(
    hub: SignalHub, clock: Clock, webinar_id: int, status: WebinarStatus, *, actor: User | None
) -> StatusChange:
    """`core_webinar_set_status`: apply one legal transition, once (`webinar_manage_status`)."""
    who = await require_capability(actor, Capability.WEBINAR_MANAGE_STATUS)
    now = clock.now()
    async with hub.transaction() as tx:
        conn = tx.connection
        webinar = await Webinar.get(id=webinar_id, using_db=conn)
        current = WebinarStatus(webinar.status)
        if current is status:
            by = await User.get_or_none(id=webinar.status_changed_by_id, using_db=conn)
            return StatusChange(Outcome.ALREADY, webinar, by=by)
        if status not in TRANSITIONS[current]:
            return StatusChange(Outcome.ILLEGAL, webinar, reason=illegal_reason(current, status))
        times: dict[str, float] = {}
        if status is WebinarStatus.LIVE:
            times["started_at"] = now
        elif status is WebinarStatus.FINISHED:
            times["ended_at"] = now
        taken = (
            await Webinar.filter(id=webinar_id, status=current)
            .using_db(conn)
            .update(
                status=status,
                status_changed_at=now,
                status_changed_by_id=actor.id if actor else None,
                updated_at=now,
                **times,
            )
        )
        if taken:
            await tx.publish(
                CoreWebinarSetStatus(
                    timestamp=int(now),
                    webinar_id=webinar.webinar_id,
                    status=status.value,
                    previous_status=current.value,
                    actor=who,
                    actor_user_id=actor.id if actor else None,
                )
            )
    if not taken:  # someone changed it between our read and our write (PostgreSQL)
        return await _after_race(webinar_id, status)
    await webinar.refresh_from_db()
    return StatusChange(Outcome.APPLIED, webinar)


async def _after_race(webinar_id: int, status: WebinarStatus) -> StatusChange:
    webinar = await Webinar.get(id=webinar_id)
    current = WebinarStatus(webinar.status)
    if current is status:
        by = await User.get_or_none(id=webinar.status_changed_by_id)
        return StatusChange(Outcome.ALREADY, webinar, by=by)
    return StatusChange(Outcome.ILLEGAL, webinar, reason=illegal_reason(current, status))


@dataclass(frozen=True)
class Registration:
    webinar_id: int
    lead_id: int
    source: str


async def register_many(tx: Publisher, clock: Clock, items: Sequence[Registration]) -> list[bool]:
    """Register leads for webinars inside `tx` (the ingest batch's transaction).

    One registration per lead and webinar however many times they submit: True where
    this call registered, False where the lead already was (or the webinar no longer
    takes registrations: finished or cancelled). Emits `client_webinar_registered` once.
    """
    if not items:
        return []
    conn = tx.connection
    webinar_ids = sorted({i.webinar_id for i in items})
    open_query = Webinar.filter(
        id__in=webinar_ids, status__in=[WebinarStatus.SCHEDULED, WebinarStatus.LIVE]
    ).using_db(conn)
    open_ids = set(cast("list[int]", await open_query.values_list("id", flat=True)))
    existing = set(
        await WebinarRegistration.filter(
            webinar_id__in=webinar_ids, lead_id__in=sorted({i.lead_id for i in items})
        )
        .using_db(conn)
        .values_list("webinar_id", "lead_id")
    )
    now = clock.now()
    results, rows, events = [], [], []
    for item in items:
        key = (item.webinar_id, item.lead_id)
        new = item.webinar_id in open_ids and key not in existing
        results.append(new)
        if not new:
            continue
        existing.add(key)
        rows.append({**vars(item), "registered_at": now})
        events.append(
            ClientWebinarRegistered(
                timestamp=int(now),
                webinar_id=str(item.webinar_id),
                lead_id=item.lead_id,
                source=item.source,
            )
        )
    await insert_rows(conn, WebinarRegistration, rows, returning_ids=False)
    await tx.publish_many(events)
    return results


async def next_scheduled(clock: Clock) -> Webinar | None:
    """The webinar `/` registers for: the next scheduled one that has not started yet."""
    return (
        await Webinar.filter(status=WebinarStatus.SCHEDULED, starts_at__gt=clock.now())
        .order_by("starts_at", "id")
        .first()
    )


async def upcoming(clock: Clock, *, limit: int = 20) -> list[Webinar]:
    """Live webinars first, then the scheduled ones by start (the speaker's `/webinars`)."""
    live = await Webinar.filter(status=WebinarStatus.LIVE).order_by("starts_at", "id")
    scheduled = (
        await Webinar.filter(status=WebinarStatus.SCHEDULED)
        .order_by("starts_at", "id")
        .limit(limit)
    )
    return [*live, *scheduled][:limit]
