"""Callback data is untrusted: whatever a client sends, every button family either parses
it into a valid value or refuses it with TypeError/ValueError (which aiogram's filter takes
for "not this button"), and a forged press through the whole bot is answered cleanly and
changes nothing it may not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.clock import FakeClock
from core.roles import Capability
from delivery.callbacks import FAMILIES, MAX_ID, LeadCard, LeadStatus, NotesPage, UserCapability
from models import CrmStatus, EventRecord, LeadEntry, LeadNote, Role
from sandbox import FakeTelegram
from tests.test_leads import command, forge, lead_of, person

PREFIXES = sorted({family.__prefix__ for family in FAMILIES} | {"", "x", "lead ", "LEAD"})
WORDS = [
    "approve",
    "reject",
    "role",
    "cap",
    "admin",
    "partner",
    "new",
    "go",
    "cancel",
    "today",
    "7d",
    "ru",
    "en",
    "registered",
    "users_manage_roles",
    "0",
    "1",
    "-1",
    "00",
    "+5",
    " 5",
    "5 ",
    "1e3",
    "0x10",
    "١٢",  # Arabic-Indic digits: int() would take them
    "9" * 19,
    str(MAX_ID),
    str(MAX_ID + 1),
    "true",
    "None",
    "",
]
PART = st.one_of(
    st.sampled_from(WORDS),
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=10),
)
# What a client can put in callback_data: up to 64 bytes, of any shape.
DATA = st.one_of(
    st.text(min_size=1, max_size=64),
    st.tuples(st.sampled_from(PREFIXES), st.lists(PART, max_size=5)).map(
        lambda pair: ":".join([pair[0], *pair[1]])
    ),
).filter(lambda data: 1 <= len(data.encode()) <= 64)


@settings(max_examples=1500)
@given(data=DATA)
def test_every_family_parses_or_refuses_cleanly(data: str) -> None:
    for family in FAMILIES:
        try:
            parsed = family.unpack(data)
        except (TypeError, ValueError):
            continue  # aiogram's filter: not this button
        packed = parsed.pack()  # a valid value: it is a button we could have made
        assert len(packed.encode()) <= 64
        assert family.unpack(packed) == parsed
        for value in parsed.model_dump().values():
            if isinstance(value, int) and not isinstance(value, bool):
                assert 0 <= value <= MAX_ID  # safe for the database


FAMILY_VALUES: dict[type[CallbackData], st.SearchStrategy[Any]] = {
    LeadCard: st.builds(LeadCard, lead_id=st.integers(1, MAX_ID)),
    LeadStatus: st.builds(
        LeadStatus, lead_id=st.integers(1, MAX_ID), status=st.sampled_from(CrmStatus)
    ),
    NotesPage: st.builds(NotesPage, lead_id=st.integers(1, MAX_ID), start=st.integers(0, 999_999)),
    UserCapability: st.builds(
        UserCapability,
        user_id=st.integers(1, MAX_ID),
        capability=st.sampled_from(Capability),
        grant=st.booleans(),
    ),
}


@given(value=st.one_of(*FAMILY_VALUES.values()))
def test_the_largest_values_fit_in_64_bytes_and_come_back(value: CallbackData) -> None:
    packed = value.pack()
    assert len(packed.encode()) <= 64
    assert type(value).unpack(packed) == value


def test_families_that_share_a_prefix_never_take_each_others_data() -> None:
    samples = [
        "usr:5",
        "usr:5:role:partner",
        "usr:5:cap:broadcast:1",
        "lead:5",
        "card:5",
        "notes:5:0",
        "leads:0",
    ]
    for data in samples:
        takers = []
        for family in FAMILIES:
            try:
                family.unpack(data)
            except (TypeError, ValueError):
                continue
            takers.append(family.__name__)
        assert len(takers) == 1, (data, takers)


@pytest.fixture
async def forged_world(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> AsyncIterator[dict[str, Any]]:
    """Pavel, a partner with his own lead and his /leads message; Vera's lead is not his."""
    fake, _ = telegram
    pavel_tg, pavel = await person(fake, clock, "Pavel", Role.PARTNER)
    _, vera = await person(fake, clock, "Vera", Role.PARTNER)
    await lead_of(clock, pavel, "Own")
    victim = await lead_of(clock, vera, "Victim")
    async with product():
        (page,) = await command(fake, pavel_tg, "/leads")
        yield {"fake": fake, "pavel": pavel_tg, "page": page, "victim": victim}


def _victim_data(victim_id: int) -> st.SearchStrategy[str]:
    """Well-formed presses aimed at a lead that is not Pavel's, and junk around them."""
    own = [
        f"lead:{victim_id}",
        f"card:{victim_id}",
        f"note:{victim_id}",
        f"notes:{victim_id}:0",
        *[f"crm:{victim_id}:{s.value}" for s in CrmStatus],
    ]
    return st.one_of(st.sampled_from(own), DATA)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_a_forged_press_is_answered_and_touches_nothing_outside_scope(
    forged_world: dict[str, Any], caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    world = forged_world
    victim: LeadEntry = world["victim"]
    pressed = data.draw(_victim_data(victim.id))
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        answer = await forge(world["fake"], world["pavel"], world["page"], pressed)
    assert answer["callback_query_id"]  # answered: the button does not spin
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    after = await LeadEntry.get(id=victim.id)
    assert after.crm_status == CrmStatus.NEW
    assert await LeadNote.filter(lead_id=victim.id).count() == 0
    assert await EventRecord.filter(lead_id=victim.id, name__startswith="core_lead_s").count() == 0
