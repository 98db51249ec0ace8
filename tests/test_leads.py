"""/leads, the lead card's status and notes, and /export: end to end through the fake
Bot API, as a partner, a leader, an admin and a candidate see them."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from core.clock import FakeClock
from models import CrmStatus, EventRecord, LeadEntry, LeadNote, Role, User
from sandbox import FakeTelegram
from sandbox.world import SandboxUser
from tests.bot_support import tick

Json = dict[str, Any]
REFUSAL = (
    "Sorry, this is not available to you "
    "(it needs “leads_view_own / leads_view_team / leads_view_all”)."
)


async def person(
    fake: FakeTelegram,
    clock: FakeClock,
    name: str,
    role: Role,
    *,
    referred_by: User | None = None,
) -> tuple[SandboxUser, User]:
    tg = fake.create_user(name, language_code="en")
    now = clock.now()
    user = await User.create(
        telegram_id=tg.id,
        chat_id=tg.id,
        first_name=name,
        role=role,
        referred_by=referred_by,
        created_at=now,
        updated_at=now,
    )
    return tg, user


async def lead_of(clock: FakeClock, partner: User | None, name: str, **extra: Any) -> LeadEntry:
    now = int(clock.now())
    clock.advance(60)
    return await LeadEntry.create(
        name=name,
        lead_source="web_form",
        first_touch_at=now,
        lead_created_at=now,
        updated_at=now,
        partner_id=partner.id if partner else None,
        **extra,
    )


async def command(fake: FakeTelegram, tg: SandboxUser, text: str, count: int = 1) -> list[Json]:
    sent = fake.send_text(tg.id, text)
    return await fake.wait_for_messages(tg.id, count, after=sent["message_id"])


def buttons(message: Json) -> list[Json]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def callbacks(message: Json) -> list[str]:
    return [b.get("callback_data", "") for b in buttons(message)]


async def forge(fake: FakeTelegram, tg: SandboxUser, message: Json, data: str) -> Json:
    """A button press with any callback data: a client may send what it likes."""
    query_id = fake.world.new_query_id()
    query = {
        "id": query_id,
        "from": tg.to_api(),
        "message": dict(message),
        "chat_instance": "1",
        "data": data,
    }
    fake.world.callbacks[query_id] = query
    fake.world.push_update("callback_query", query)
    answer: Json = await fake.wait_for_answer(query_id)
    return answer


async def press(fake: FakeTelegram, tg: SandboxUser, message: Json, data: str) -> Json:
    query_id = fake.press_button(tg.id, message["message_id"], data=data)
    answer: Json = await fake.wait_for_answer(query_id)
    return answer


def current(fake: FakeTelegram, chat_id: int, message_id: int) -> Json:
    message: Json = fake.world.chat(chat_id).messages[message_id]
    return message


async def test_a_partner_pages_through_their_own_leads_newest_first(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel_tg, pavel = await person(fake, clock, "Pavel", Role.PARTNER)
    _, olga = await person(fake, clock, "Olga", Role.PARTNER)
    mine = [await lead_of(clock, pavel, f"Lead {n}") for n in range(12)]
    await lead_of(clock, olga, "Olga's lead")
    await lead_of(clock, None, "Nobody's lead")
    mine[3].name = "<b>x</b>&"
    await mine[3].save()
    async with product():
        (page,) = await command(fake, pavel_tg, "/leads")
        assert page["text"].startswith("Your leads: 12\nPage 1 of 2")
        newest = [f"lead:{lead.id}" for lead in reversed(mine)]
        assert callbacks(page) == [*newest[:10], "leads:1"]
        assert buttons(page)[0]["text"] == "Lead 11 · New"
        # Button texts are plain text in Telegram: the name is shown as typed.
        assert buttons(page)[8]["text"] == "<b>x</b>& · New"

        await press(fake, pavel_tg, page, "leads:1")
        second = await fake.wait_until(
            lambda: (
                (m := current(fake, pavel_tg.id, page["message_id"]))["text"].startswith(
                    "Your leads: 12\nPage 2 of 2"
                )
                and m
            )
        )
        assert callbacks(second) == [*newest[10:], "leads:0"]
        assert [b["text"] for b in buttons(second)][-1] == "◀"
        assert len(fake.bot_messages(pavel_tg.id)) == 1  # edited in place


async def test_nobody_sees_or_changes_a_lead_outside_their_scope(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    lena_tg, lena = await person(fake, clock, "Lena", Role.LEADER)
    _, pavel = await person(fake, clock, "Pavel", Role.PARTNER, referred_by=lena)
    _, petr = await person(fake, clock, "Petr", Role.PARTNER, referred_by=pavel)
    _, olga = await person(fake, clock, "Olga", Role.PARTNER)
    cand_tg, _ = await person(fake, clock, "Mallory", Role.CANDIDATE)
    own = await lead_of(clock, lena, "Lena's own")
    team = await lead_of(clock, pavel, "Pavel's lead")
    below = await lead_of(clock, petr, "Petr's lead")
    other = await lead_of(clock, olga, "Olga's lead")
    async with product():
        (page,) = await command(fake, lena_tg, "/leads")
        assert page["text"].startswith("Leads of you and your team: 3")
        assert callbacks(page) == [f"lead:{below.id}", f"lead:{team.id}", f"lead:{own.id}"]

        await press(fake, lena_tg, page, f"lead:{team.id}")
        card = (await fake.wait_for_messages(lena_tg.id, 2))[-1]
        assert f"Partner: Pavel ({pavel.telegram_id})" in card["text"]

        for data in (f"lead:{other.id}", f"crm:{other.id}:rejected", f"note:{other.id}"):
            answer = await forge(fake, lena_tg, card, data)
            assert answer["text"] == "This lead is not in your list.", data
            assert answer["show_alert"] is True
        assert len(fake.bot_messages(lena_tg.id)) == 2
        unchanged = await LeadEntry.get(id=other.id)
        assert unchanged.crm_status == CrmStatus.NEW
        assert await EventRecord.filter(name__startswith="core_lead_").count() == 0

        (refused,) = await command(fake, cand_tg, "/leads")
        assert refused["text"] == REFUSAL
        (refused,) = await command(fake, cand_tg, "/export")
        assert refused["text"] == REFUSAL
        answer = await forge(fake, cand_tg, refused, f"lead:{own.id}")
        assert answer["text"] == "This lead is not in your list."
        answer = await forge(fake, cand_tg, refused, "leads:0")
        assert answer["text"] == REFUSAL


async def test_an_admin_sees_every_lead(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada_tg, _ = await person(fake, clock, "Ada", Role.ADMIN)
    _, olga = await person(fake, clock, "Olga", Role.PARTNER)
    leads = [await lead_of(clock, olga, "Olga's lead"), await lead_of(clock, None, "Orphan")]
    async with product():
        (page,) = await command(fake, ada_tg, "/leads")
        assert page["text"] == "All leads: 2"
        assert callbacks(page) == [f"lead:{lead.id}" for lead in reversed(leads)]

        await press(fake, ada_tg, page, f"lead:{leads[1].id}")
        card = (await fake.wait_for_messages(ada_tg.id, 2))[-1]
        assert "Partner: —" in card["text"]
        assert callbacks(card)[-2:] == [f"note:{leads[1].id}", "leads:0"]
        await press(fake, ada_tg, card, "leads:0")  # back to the list, in place
        back = await fake.wait_until(
            lambda: (
                (m := current(fake, ada_tg.id, card["message_id"]))["text"] == "All leads: 2" and m
            )
        )
        assert callbacks(back) == callbacks(page)


async def test_an_empty_list_is_friendly(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel_tg, _ = await person(fake, clock, "Pavel", Role.PARTNER)
    async with product():
        (page,) = await command(fake, pavel_tg, "/leads")
        assert page["text"] == "There are no leads in your list yet."
        (answer,) = await command(fake, pavel_tg, "/export")
        assert answer["text"] == "There are no leads in your list yet."


async def test_status_and_note_from_the_card(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel_tg, pavel = await person(fake, clock, "Pavel", Role.PARTNER)
    lead = await lead_of(clock, pavel, "Anna", phone="+79161234567")
    await EventRecord.bulk_create(
        [
            EventRecord(
                name=name,
                payload={"lead_id": lead.id, "webinar_id": "w1", **extra},
                lead_id=lead.id,
                webinar_id="w1",
                created_at=clock.now(),
            )
            for name, extra in (
                ("client_webinar_registered", {}),
                ("client_webinar_entered", {}),
                ("client_webinar_attendance_classified", {"attendance": "attended"}),
            )
        ]
    )
    async with product() as rt:
        (page,) = await command(fake, pavel_tg, "/leads")
        await press(fake, pavel_tg, page, f"lead:{lead.id}")
        card = (await fake.wait_for_messages(pavel_tg.id, 2))[-1]
        assert "Phone: +79161234567" in card["text"]
        assert "Webinars: w1: registered, entered, attended" in card["text"]
        assert "CRM status: New" in card["text"]
        assert "Notes: none yet" in card["text"]
        assert "Partner:" not in card["text"]  # one's own leads need no partner line
        assert [b["text"] for b in buttons(card)][:2] == ["✅ New", "In progress"]

        answer = await press(fake, pavel_tg, card, f"crm:{lead.id}:in_progress")
        assert answer["text"] == "Status: In progress"
        edited = await fake.wait_until(
            lambda: (
                (m := current(fake, pavel_tg.id, card["message_id"]))
                and "CRM status: In progress" in m["text"]
                and m
            )
        )
        assert [b["text"] for b in buttons(edited)][:2] == ["New", "✅ In progress"]
        await press(fake, pavel_tg, edited, f"crm:{lead.id}:in_progress")  # again: no change
        await tick(rt)
        assert (await LeadEntry.get(id=lead.id)).crm_status == CrmStatus.IN_PROGRESS
        (status_event,) = await EventRecord.filter(name="core_lead_status_set")
        assert status_event.payload | {"timestamp": 0} == {
            "lead_id": lead.id,
            "status": "in_progress",
            "previous_status": "new",
            "actor": f"user:{pavel.id}",
            "actor_user_id": pavel.id,
            "timestamp": 0,
        }

        before = len(fake.bot_messages(pavel_tg.id))
        await press(fake, pavel_tg, edited, f"note:{lead.id}")
        (prompt,) = (await fake.wait_for_messages(pavel_tg.id, before + 1))[before:]
        assert prompt["text"] == "Send the note about Anna as one message (/cancel to stop)."
        saved, shown = await command(fake, pavel_tg, "  <b>x</b>& called, will come  ", 2)
        assert saved["text"] == "Note saved."
        assert "Notes:\n• " in shown["text"]
        assert "Pavel: <b>x</b>& called, will come" in shown["text"]  # as text, not markup
        at = shown["text"].index("<b>x</b>")
        assert not any(e["offset"] <= at < e["offset"] + e["length"] for e in shown["entities"])

        (note,) = await LeadNote.all()
        assert (note.text, note.author_id, note.lead_id) == (
            "<b>x</b>& called, will come",
            pavel.id,
            lead.id,
        )
        (note_event,) = await EventRecord.filter(name="core_lead_note_added")
        assert (note_event.lead_id, note_event.payload["note_id"]) == (lead.id, note.id)

        # A note is answered once: the next plain text is not a note.
        await command(fake, pavel_tg, "just chatting")
        assert await LeadNote.all().count() == 1


async def test_an_empty_or_too_long_note_is_refused(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel_tg, pavel = await person(fake, clock, "Pavel", Role.PARTNER)
    lead = await lead_of(clock, pavel, "Anna")
    async with product():
        (page,) = await command(fake, pavel_tg, "/leads")
        await press(fake, pavel_tg, page, f"lead:{lead.id}")
        card = (await fake.wait_for_messages(pavel_tg.id, 2))[-1]
        await press(fake, pavel_tg, card, f"note:{lead.id}")
        await fake.wait_for_messages(pavel_tg.id, 3)
        (answer,) = await command(fake, pavel_tg, "x" * 2001)
        assert answer["text"] == "A note must be 1 to 2000 characters. Nothing was saved."
        assert await LeadNote.all().count() == 0
        assert await EventRecord.filter(name="core_lead_note_added").count() == 0


async def test_export_sends_the_scope_as_csv(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel_tg, pavel = await person(fake, clock, "Pavel", Role.PARTNER)
    _, olga = await person(fake, clock, "Olga", Role.PARTNER)
    first = await lead_of(
        clock, pavel, "Анна", phone="+79161234567", utm={"utm_source": "vk"}, chat_id=5
    )
    hostile = await lead_of(clock, pavel, '=HYPERLINK("http://x")', email="@evil@example.com")
    await lead_of(clock, olga, "Olga's lead")
    await LeadNote.create(lead_id=first.id, author_id=pavel.id, text="-1+1", at=clock.now())
    async with product() as rt:
        (document,) = await command(fake, pavel_tg, "/export")
        assert document["caption"] == "Leads exported: 2"
        assert document["document"]["file_name"] == "leads.csv"
        data = fake.world.files[document["document"]["file_id"]].data
        assert data.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert [r["id"] for r in rows] == [str(hostile.id), str(first.id)]
        by_id = {r["id"]: r for r in rows}
        anna = by_id[str(first.id)]
        assert (anna["name"], anna["phone"], anna["utm_source"], anna["in_telegram"]) == (
            "Анна",
            "+79161234567",
            "vk",
            "yes",
        )
        assert (anna["partner_telegram_id"], anna["partner_name"]) == (str(pavel_tg.id), "Pavel")
        assert (anna["notes"], anna["last_note"]) == ("1", "'-1+1")
        assert anna["first_touch_at"].endswith("+03:00")  # Europe/Moscow
        evil = by_id[str(hostile.id)]
        assert evil["name"] == '\'=HYPERLINK("http://x")'
        assert evil["email"] == "'@evil@example.com"
        await tick(rt)
        (event,) = await EventRecord.filter(name="core_leads_exported")
        assert (event.payload["count"], event.payload["scope"]) == (2, "own")
        assert event.payload["actor"] == f"user:{pavel.id}"
