"""/broadcast end to end: segment, text, preview, Confirm; each recipient once, the
progress message edited to the final counts; cancel, double confirm, blocked, no right."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.broadcasts import IncompleteBroadcast
from core.clock import FakeClock
from handlers.broadcasts import confirm_broadcast, update_broadcast_progress
from models import Broadcast, BroadcastStatus, OutboxMessage, Role, User
from sandbox import FakeTelegram
from tests.bot_support import tick
from tests.test_admin_users import buttons_of, forge, press, say, start

# What the admin types: "tomorrow" in bold (Telegram's formatting), and text that looks
# like markup but is not.
TEXT = "Webinar tomorrow at 19:00 & <don't> miss it"
BOLD = [{"type": "bold", "offset": 8, "length": 8}]


def send_formatted(fake: FakeTelegram, user_id: int, text: str, entities: list[Any]) -> Any:
    """The user sends a message with formatting (the fake's send_text sends plain text)."""
    user = fake.world.users[user_id]
    message = fake.world.store(user_id, user.to_api(), {"text": text, "entities": entities})
    fake.world.push_update("message", dict(message))
    return message


async def people(fake: FakeTelegram, clock: FakeClock, roles: dict[str, Role]) -> dict[str, Any]:
    """Telegram users who opened the bot, with these roles."""
    made = {}
    for name, role in roles.items():
        person = fake.create_user(name, language_code="en")
        await start(fake, person.id)
        await User.filter(telegram_id=person.id).update(role=role)
        made[name] = person
    return made


async def prepare(rt: Any, fake: FakeTelegram, ada: Any, text: str = TEXT) -> dict[str, Any]:
    """Ada chooses the partners and writes the text; returns the confirmation message."""
    (menu,) = await say(fake, ada.id, "/broadcast")
    assert "bcs:role:partner" in buttons_of(menu)
    await press(fake, ada.id, menu["message_id"], "bcs:role:partner")
    (asked,) = await fake.wait_for_messages(ada.id, after=menu["message_id"])
    assert asked["text"].startswith("Segment — role: partner. Now send the text")
    sent = send_formatted(fake, ada.id, text, BOLD if text == TEXT else [])
    preview, confirm = await fake.wait_for_messages(ada.id, 2, after=sent["message_id"])
    return {"preview": preview, "confirm": confirm}


async def test_a_broadcast_reaches_each_partner_once_with_progress(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        p = await people(
            fake, clock, {"P1": Role.PARTNER, "P2": Role.PARTNER, "P3": Role.PARTNER}
        ) | await people(fake, clock, {"Cand": Role.CANDIDATE, "Lea": Role.LEADER})
        fake.block_bot(p["P3"].id)
        before = {name: len(fake.bot_messages(u.id)) for name, u in p.items()}

        shown = await prepare(rt, fake, ada)
        # the preview is exactly what recipients will see
        assert shown["preview"]["text"] == TEXT
        assert shown["preview"]["entities"] == BOLD
        assert "3 recipients" in shown["confirm"]["text"]
        await tick(rt)
        assert {name: len(fake.bot_messages(u.id)) for name, u in p.items()} == before

        confirm_id = shown["confirm"]["message_id"]
        await press(fake, ada.id, confirm_id, f"bc:{(await Broadcast.get()).id}:go")
        # a second press (a double tap, or a forged one) sends nothing twice
        answer = await forge(fake, ada, confirm_id, f"bc:{(await Broadcast.get()).id}:go")
        assert answer["text"] == "This broadcast can no longer be changed."
        for _ in range(3):
            await tick(rt)
            await update_broadcast_progress(rt.hub, rt.clock, rt.texts)
        await tick(rt)

        for name in ("P1", "P2"):
            got = fake.bot_messages(p[name].id)[before[name] :]
            assert [m["text"] for m in got] == [shown["preview"]["text"]], name
            assert got[0]["entities"] == shown["preview"]["entities"]
        for name in ("P3", "Cand", "Lea"):
            assert len(fake.bot_messages(p[name].id)) == before[name], name
        confirmed = fake.messages(ada.id)
        assert any(m["text"] == "Confirmed: sending to 3 recipients." for m in confirmed)
        (progress,) = [m for m in confirmed if m["text"].startswith("📣")]
        broadcast = await Broadcast.get()
        assert progress["text"] == f"📣 Broadcast #{broadcast.id}. Done: 2 sent, 1 not delivered."
        assert progress.get("edit_date")
        assert broadcast.status == BroadcastStatus.DONE
        assert await OutboxMessage.filter(key__startswith=f"bc:{broadcast.id}:to:").count() == 3
        # once done, nothing more happens
        assert await update_broadcast_progress(rt.hub, rt.clock, rt.texts) == 0


async def test_nothing_is_sent_before_confirmation_and_cancel_sends_nothing(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        p = await people(fake, clock, {"P1": Role.PARTNER})
        shown = await prepare(rt, fake, ada, text="<script>x</script>")
        assert shown["preview"]["text"] == "<script>x</script>"  # user text is escaped
        broadcast = await Broadcast.get()
        await press(fake, ada.id, shown["confirm"]["message_id"], f"bc:{broadcast.id}:cancel")
        await tick(rt)
        await update_broadcast_progress(rt.hub, rt.clock, rt.texts)
        await tick(rt)
        assert fake.messages(ada.id)[-1]["text"] == "Broadcast cancelled. Nothing was sent."
        assert len(fake.bot_messages(p["P1"].id)) == 1  # only the answer to /start
        assert (await Broadcast.get()).status == BroadcastStatus.CANCELLED
        assert await OutboxMessage.filter(key__startswith="bc:").count() == 0
        answer = await forge(fake, ada, shown["confirm"]["message_id"], f"bc:{broadcast.id}:go")
        assert answer["text"] == "This broadcast can no longer be changed."


async def test_without_the_right_there_is_no_broadcast(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        p = await people(fake, clock, {"Lea": Role.LEADER, "P1": Role.PARTNER})
        lea = p["Lea"]
        (refused,) = await say(fake, lea.id, "/broadcast")
        assert "broadcast" in refused["text"]
        assert refused["text"].startswith("Sorry")
        answer = await forge(fake, lea, refused["message_id"], "bcs:role:partner")
        assert answer["text"].startswith("Sorry")
        # Ada's draft, confirmed by someone without the right: refused, nothing sent
        shown = await prepare(rt, fake, ada)
        broadcast = await Broadcast.get()
        answer = await forge(fake, lea, refused["message_id"], f"bc:{broadcast.id}:go")
        assert answer["text"].startswith("Sorry")
        await tick(rt)
        assert (await Broadcast.get()).status == BroadcastStatus.DRAFT
        assert len(fake.bot_messages(p["P1"].id)) == 1
        assert "1 recipients" in shown["confirm"]["text"]


async def test_a_draft_without_text_cannot_be_confirmed_by_any_button(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        p = await people(fake, clock, {"P1": Role.PARTNER})
        (menu,) = await say(fake, ada.id, "/broadcast")
        await press(fake, ada.id, menu["message_id"], "bcs:role:partner")
        (asked,) = await fake.wait_for_messages(ada.id, after=menu["message_id"])
        draft = await Broadcast.get()
        assert draft.text == ""
        # Confirm pressed before any text was sent (a forged button): refused, nothing sent
        answer = await forge(fake, ada, asked["message_id"], f"bc:{draft.id}:go")
        assert answer["text"] == "This broadcast is not ready to send: send its text first."
        await tick(rt)
        assert (await Broadcast.get()).status == BroadcastStatus.DRAFT
        assert len(fake.bot_messages(p["P1"].id)) == 1  # only the answer to /start
        assert await OutboxMessage.filter(key__startswith="bc:").count() == 0
        # the same holds for the core command, whoever calls it, and for blank text
        author = await User.get(telegram_id=ada.id)
        await Broadcast.filter(id=draft.id).update(text=" \n ")
        with pytest.raises(IncompleteBroadcast):
            await confirm_broadcast(rt.hub, clock, rt.texts, "en", draft.id, author, ada.id)
        assert (await Broadcast.get()).status == BroadcastStatus.DRAFT
        # the text sent afterwards completes the draft, and Confirm then sends it
        sent = send_formatted(fake, ada.id, TEXT, BOLD)
        preview, confirm = await fake.wait_for_messages(ada.id, 2, after=sent["message_id"])
        await press(fake, ada.id, confirm["message_id"], f"bc:{draft.id}:go")
        await tick(rt)
        await tick(rt)
        assert [m["text"] for m in fake.bot_messages(p["P1"].id)][1:] == [preview["text"]]
