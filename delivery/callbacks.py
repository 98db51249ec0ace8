"""Every inline button's callback data, defined once: the class builds the data (`pack()`)
and, as a filter (`Family.filter()`), parses it back for the handler.

Callback data comes from the client and can be anything up to 64 bytes: a forged press,
a stale button, junk. Parsing either gives a valid value of the family (ids within the
database's range, statuses and verdicts from their closed sets) or raises TypeError or
ValueError, which aiogram's filter turns into "not this handler": such a press ends at
the fallback router's "This button no longer works.". What the value then allows is still
checked by the handler (scope, capability), because a well-formed id may be someone
else's. The formats are those the buttons already in people's chats carry.

They live in `delivery/`, beside the outbox, because `handlers/` and the scheduler build
messages with buttons too (a new-lead notice, a review request): together they are what a
queued message carries. The class is aiogram's (a pydantic model with `pack()`); as a
filter it is used by the routers in `bot/` only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from core.roles import Capability
from core.stats import Period
from models import CrmStatus, Role

MAX_ID = 2**63 - 1  # a BigInt primary key
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Page = Annotated[int, Field(ge=0, le=999_999)]
Verdict = Literal["approve", "reject"]
SegmentKind = Literal["role", "crm", "registered", "attendance"]


class LeadCard(CallbackData, prefix="lead"):
    """Open a lead's card as a new message (from /leads or a new-lead notice)."""

    lead_id: Id


class CardInPlace(CallbackData, prefix="card"):
    """Show the lead's card again in the message pressed (back from its notes)."""

    lead_id: Id


class LeadStatus(CallbackData, prefix="crm"):
    lead_id: Id
    status: CrmStatus


class AddNote(CallbackData, prefix="note"):
    lead_id: Id


class NotesPage(CallbackData, prefix="notes"):
    """The lead's notes from the `start`-th newest on."""

    lead_id: Id
    start: Page


class LeadsPage(CallbackData, prefix="leads"):
    page: Page


class StatsPeriod(CallbackData, prefix="stats"):
    period: Period


class Language(CallbackData, prefix="lang"):
    code: Annotated[str, Field(pattern=r"^[a-z]{2}$")]  # one of core.texts.SUPPORTED


class ApplicationVerdict(CallbackData, prefix="app"):
    item_id: Id  # the application
    verdict: Verdict


class ProfileVerdict(CallbackData, prefix="prof"):
    item_id: Id  # the profile change
    verdict: Verdict


class UserCard(CallbackData, prefix="usr"):
    user_id: Id


class UserRole(CallbackData, prefix="usr"):
    user_id: Id
    kind: Literal["role"] = "role"
    role: Role


class UserCapability(CallbackData, prefix="usr"):
    user_id: Id
    kind: Literal["cap"] = "cap"
    capability: Capability
    grant: bool


class BroadcastSegment(CallbackData, prefix="bcs"):
    """A segment by kind and value (`value` empty for kinds without one); whether the pair
    names a segment is `core.broadcasts.parse_segment`'s to say."""

    kind: SegmentKind
    value: Annotated[str, Field(pattern=r"^[a-z_]{0,32}$")] = ""


class BroadcastWebinarSegment(CallbackData, prefix="bcw"):
    """A webinar segment of one webinar: its registrants, or those classified at it."""

    kind: Literal["registered", "attendance"]
    value: Annotated[str, Field(pattern=r"^[a-z_]{0,32}$")] = ""
    webinar: Id


class BroadcastDecision(CallbackData, prefix="bc"):
    broadcast_id: Id
    action: Literal["go", "cancel"]


class WebinarAction(CallbackData, prefix="wbc"):
    """A speaker's control of one webinar (`core_webinar_set_status`); `cancel` asks first,
    `cancel_yes` cancels."""

    webinar_id: Id
    action: Literal["start", "stop", "cancel", "cancel_yes"]


class WebinarsRefresh(CallbackData, prefix="wbl"):
    """The speaker's /webinars list again, in place."""


class ChatModeration(CallbackData, prefix="wbm"):
    """A live webinar's chat from the bot: `item` is a chat message's id (0: none)."""

    webinar_id: Id
    action: Literal["show", "refresh", "del", "mute", "unmute", "close", "open"]
    item: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


class WebinarOffer(CallbackData, prefix="wbo"):
    """Show (`open`) or hide (`close`) the speaker's form in a live webinar's rooms."""

    webinar_id: Id
    action: Literal["open", "close"]


class WebinarDialog(CallbackData, prefix="wbd"):
    """The guided create/edit dialog: start it (`new`, `edit`), or decide on its preview."""

    action: Literal["new", "edit", "save", "again", "drop"]
    webinar_id: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


class AutoSeriesScreen(CallbackData, prefix="was"):
    """The AUTO webinars' screen: `open` the list as a new message (from /webinars),
    `list` it in place, `show` one series, `pause` or `resume` its schedule."""

    action: Literal["open", "list", "show", "pause", "resume"]
    series_id: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


# Every family, for the tests that throw junk at them.
FAMILIES: tuple[type[CallbackData], ...] = (
    LeadCard,
    CardInPlace,
    LeadStatus,
    AddNote,
    NotesPage,
    LeadsPage,
    StatsPeriod,
    Language,
    ApplicationVerdict,
    ProfileVerdict,
    UserCard,
    UserRole,
    UserCapability,
    BroadcastSegment,
    BroadcastWebinarSegment,
    BroadcastDecision,
    WebinarAction,
    WebinarsRefresh,
    ChatModeration,
    WebinarOffer,
    WebinarDialog,
    AutoSeriesScreen,
)
