"""`core_ingest_event`: one lead per person, the seed's metrics, first-touch attribution."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from core.clock import FakeClock
from core.contact import Contact, ContactError, RawContact, normalise
from core.hub import Delivery, SignalHub
from core.ingest import core_ingest_event
from models import EventRecord, LeadEntry, LeadTouch, Role, User


def contact(phone: str = "+7 916 123-45-67", email: str = "", **extra: Any) -> Contact:
    raw = RawContact(source=extra.pop("source", "web_form"), name="Анна", phone=phone, email=email)
    for key, value in extra.items():
        setattr(raw, key, value)
    return normalise(raw, region="RU", require_phone=False)


async def events(name: str) -> list[dict[str, object]]:
    rows = await EventRecord.filter(name=name).order_by("id").values_list("payload", flat=True)
    return list(rows)  # type: ignore[arg-type]


async def test_new_contact_becomes_a_lead_with_the_seed_metrics(
    hub: SignalHub, clock: FakeClock
) -> None:
    result = await core_ingest_event(hub, clock, contact(utm={"utm_source": "vk"}, tz="Asia/Omsk"))

    lead = await LeadEntry.get(id=result.lead_id)
    assert result.created
    assert lead.phone == "+79161234567"
    assert lead.lead_source == "web_form"
    assert lead.first_touch_at == lead.lead_created_at == int(clock.now())
    assert lead.lead_created_via == "core_ingest"
    assert lead.utm == {"utm_source": "vk"}
    assert lead.tz == "Asia/Omsk"
    created = await events("core_lead_created")
    assert created == [
        {
            "timestamp": int(clock.now()),
            "lead_id": lead.id,
            "lead_source": "web_form",
            "partner_id": None,
            "ref": None,
        }
    ]
    ingested = await events("core_ingest_event")
    assert len(ingested) == 1
    assert ingested[0]["lead_id"] == lead.id
    assert ingested[0]["created"] is True


async def test_same_person_again_is_the_same_lead(hub: SignalHub, clock: FakeClock) -> None:
    first = await core_ingest_event(hub, clock, contact("+7 916 123-45-67", "anna@example.com"))
    first_touch = (await LeadEntry.get(id=first.lead_id)).first_touch_at
    clock.advance(3600)
    again = await core_ingest_event(hub, clock, contact("8 (916) 123 45 67"))
    clock.advance(3600)
    by_email = await core_ingest_event(hub, clock, contact("", "Anna@Example.com", source="tilda"))

    assert again.lead_id == by_email.lead_id == first.lead_id
    assert not again.created
    assert not by_email.created
    lead = await LeadEntry.get(id=first.lead_id)
    assert lead.first_touch_at == first_touch
    assert lead.lead_source == "web_form"
    assert await LeadEntry.all().count() == 1
    assert len(await events("core_lead_created")) == 1
    assert len(await events("core_ingest_event")) == 3
    touches = await LeadTouch.filter(lead_id=lead.id).order_by("id")
    assert [t.source for t in touches] == ["web_form", "web_form", "tilda"]
    assert [t.matched_by for t in touches] == [None, "phone", "email"]
    # Each touch gets its own personal deep link.
    assert len({first.start_token, again.start_token, by_email.start_token}) == 3


async def test_a_matched_touch_keeps_what_it_brought_and_changes_nothing_on_the_lead(
    hub: SignalHub, clock: FakeClock
) -> None:
    # Anyone can type someone's phone: until the person proves it (handlers/binding.py),
    # what they typed must not fill the lead's empty fields (nor take an e-mail for it).
    first = await core_ingest_event(hub, clock, contact())
    before = await LeadEntry.get(id=first.lead_id)
    clock.advance(60)
    raw = {"name": "Mallory", "tz": "Asia/Tokyo", "locale": "en"}
    again = await core_ingest_event(hub, clock, contact(email="Mallory@Evil.example", **raw))

    assert again.lead_id == first.lead_id
    lead = await LeadEntry.get(id=first.lead_id)
    assert (lead.name, lead.email, lead.tz, lead.locale) == ("Анна", None, None, None)
    assert lead.updated_at == before.updated_at
    touch = await LeadTouch.get(start_token=again.start_token)
    assert (touch.name, touch.phone, touch.email, touch.tz, touch.locale) == (
        "Mallory",
        "+79161234567",
        "mallory@evil.example",
        "Asia/Tokyo",
        "en",
    )
    # The e-mail is nobody's yet: a later contact with it alone is someone new.
    other = await core_ingest_event(hub, clock, contact("", "mallory@evil.example"))
    assert other.created


async def test_start_tokens_fit_telegram_deep_links(hub: SignalHub, clock: FakeClock) -> None:
    result = await core_ingest_event(hub, clock, contact())
    token = result.start_token
    assert 16 <= len(token) <= 64
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in token)


async def test_first_touch_attribution_stays_with_the_first_partner(
    hub: SignalHub, clock: FakeClock
) -> None:
    now = clock.now()
    alice = await User.create(
        telegram_id=1, role=Role.PARTNER, ref_code="alice", created_at=now, updated_at=now
    )
    await User.create(
        telegram_id=2, role=Role.PARTNER, ref_code="bob", created_at=now, updated_at=now
    )
    first = await core_ingest_event(hub, clock, contact(ref="alice"))
    await core_ingest_event(hub, clock, contact(ref="bob"))

    lead = await LeadEntry.get(id=first.lead_id)
    assert lead.partner_id == alice.id
    assert lead.ref == "alice"
    assert (await events("core_lead_created"))[0]["partner_id"] == alice.id


async def test_a_ref_of_no_partner_is_kept_but_attributes_nobody(
    hub: SignalHub, clock: FakeClock
) -> None:
    now = clock.now()
    await User.create(telegram_id=3, ref_code="cand", created_at=now, updated_at=now)
    result = await core_ingest_event(hub, clock, contact(ref="cand"))
    lead = await LeadEntry.get(id=result.lead_id)
    assert lead.ref == "cand"
    assert lead.partner_id is None


async def test_concurrent_submissions_of_one_person_make_one_lead(
    hub: SignalHub, clock: FakeClock
) -> None:
    results = await asyncio.gather(
        *(core_ingest_event(hub, clock, contact("+79161234567")) for _ in range(10))
    )
    assert len({r.lead_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(await events("core_lead_created")) == 1
    assert await LeadTouch.all().count() == 10


async def test_lead_created_reaches_subscribers_after_commit(
    hub: SignalHub, clock: FakeClock
) -> None:
    seen: list[tuple[int, bool]] = []

    async def on_created(event: Any, d: Delivery) -> None:
        lead = await LeadEntry.get(id=event.lead_id)
        seen.append((lead.id, lead.phone == "+79161234567"))

    hub.subscribe("core_lead_created", on_created, name="probe")
    await hub.start()
    result = await core_ingest_event(hub, clock, contact())
    await core_ingest_event(hub, clock, contact())
    await hub.drain()
    assert seen == [(result.lead_id, True)]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (RawContact(source="web_form", name="", phone="+79161234567"), "name"),
        (RawContact(source="web_form", name="A", phone="12"), "phone"),
        (RawContact(source="web_form", name="A", phone=""), "phone"),
        (RawContact(source="web_form", name="A", phone="+79161234567", email="x@"), "email"),
        (RawContact(source="web_form", name="A", phone="+79161234567", consent=False), "consent"),
        (RawContact(source="Web Form!", name="A", phone="+79161234567"), "source"),
    ],
)
def test_bad_contacts_name_the_field(raw: RawContact, field: str) -> None:
    with pytest.raises(ContactError) as info:
        normalise(raw, region="RU", require_phone=True)
    assert field in info.value.errors


def test_hidden_values_that_are_junk_are_dropped_not_fatal() -> None:
    raw = RawContact(
        source="web_form",
        name="A",
        phone="+79161234567",
        tz="Mars/Olympus",
        ref="<script>",
        utm={"utm_source": "x", "evil": "y"},
    )
    c = normalise(raw, region="RU", require_phone=True)
    assert (c.tz, c.ref, c.utm) == (None, None, {"utm_source": "x"})


def test_timestamps_are_unix_seconds(clock: FakeClock) -> None:
    assert abs(FakeClock(time.time()).now() - time.time()) < 5
