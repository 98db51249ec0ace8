"""The longest lead the product accepts still gets its notice, card and notes through
Telegram's limits: a lead with an emoji name, emoji UTM tags and e-mail of the greatest
legal length, and long emoji notes. The fake Bot API refuses, as Telegram does, any text
over 4,096 UTF-16 units; here nothing is refused and every screen opens."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from core.clock import FakeClock
from core.crm import NOTE_LIMIT, add_note
from core.telegram_limits import TEXT_LIMIT
from models import LeadEntry, LeadNote, OutboxMessage, OutboxStatus, User
from sandbox import FakeTelegram
from sandbox.markup import utf16_len
from tests.bot_support import register, tick
from tests.test_admin_users import press, start

# Emoji are two UTF-16 units each: the heaviest text for the length a field allows.
NAME = "🦄" * 200  # the form's limit
UTM = {f"utm_{k}": "🔥" * 200 for k in ("source", "medium", "campaign", "content", "term")}
# The longest e-mail the column holds, with an emoji local part (the validator may take less).
EMAIL = "😀" * 64 + "@" + "a" * 185 + ".com"
NOTE = "📝" * NOTE_LIMIT


def showing(fake: FakeTelegram, chat: int, message: Any, text: str) -> Any:
    """The message as it is now, once it shows `text` (it is edited in place)."""
    now = fake.world.chat(chat).messages[message["message_id"]]
    return now if text in now["text"] else None


def refused(fake: FakeTelegram) -> list[Any]:
    return [(c.method, c.error_code) for c in fake.calls if c.error_code]


async def test_the_longest_lead_gets_its_notice_card_and_notes(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("🦊" * 64, last_name="🐻" * 64, username="a" * 32, language_code="en")
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        # The form posts the UTM tags it carries (a link could not hold all five at their
        # longest: a URL is at most 8 kB).
        await register(rt, name=NAME, email="anna@example.com", **UTM)
        lead = await LeadEntry.get()
        assert lead.name == NAME
        assert lead.utm == UTM
        await LeadEntry.filter(id=lead.id).update(email=EMAIL)
        author = await User.get(telegram_id=ada.id)
        for n in range(4):
            clock.advance(60)
            await add_note(rt.hub, clock, lead.id, f"{n} {NOTE}"[:NOTE_LIMIT], actor=author)
        await tick(rt)

        notice = (await fake.wait_for_messages(ada.id, 2))[-1]
        assert notice["text"].startswith("🆕 New lead")
        assert NAME in notice["text"]
        await press(fake, ada.id, notice["message_id"], f"lead:{lead.id}")
        card = (await fake.wait_for_messages(ada.id, 3))[-1]
        assert utf16_len(card["text"]) <= TEXT_LIMIT
        assert card["text"].startswith(f"{NAME} #{lead.id}")
        assert "CRM status: New" in card["text"]
        assert "They are under “All notes”." in card["text"]  # older notes did not fit
        labels = {
            b["text"]: b["callback_data"]
            for r in card["reply_markup"]["inline_keyboard"]
            for b in r
        }
        assert labels["📒 All notes"] == f"notes:{lead.id}:0"

        # The notes pages: each note in full (as far as one message holds), newest first.
        seen: list[str] = []
        data = labels["📒 All notes"]
        for expected in ("Notes 1–1 of 4", "Notes 2–2 of 4", "Notes 3–3 of 4", "Notes 4–4 of 4"):
            await press(fake, ada.id, card["message_id"], data)
            page = await fake.wait_until(partial(showing, fake, ada.id, card, expected))
            assert utf16_len(page["text"]) <= TEXT_LIMIT
            seen.append(page["text"].split("\n")[3])
            labels = {
                b["text"]: b["callback_data"]
                for r in page["reply_markup"]["inline_keyboard"]
                for b in r
            }
            data = labels.get("Older ▶", "")
        assert [s.split(": ", 1)[1][:1] for s in seen] == ["3", "2", "1", "0"]
        assert "Older ▶" not in labels
        await press(fake, ada.id, card["message_id"], labels["◀ Newer"])
        await fake.wait_until(
            lambda: "Notes 3–3 of 4" in fake.world.chat(ada.id).messages[card["message_id"]]["text"]
        )
        await press(fake, ada.id, card["message_id"], f"card:{lead.id}")
        await fake.wait_until(
            lambda: "CRM status" in fake.world.chat(ada.id).messages[card["message_id"]]["text"]
        )

        # The list shows the name shortened on its button, and everything arrived.
        sent = fake.send_text(ada.id, "/leads")
        (leads,) = await fake.wait_for_messages(ada.id, after=sent["message_id"])
        (label,) = [b["text"] for r in leads["reply_markup"]["inline_keyboard"] for b in r]
        assert label == "🦄" * 19 + "… · New"  # 40 UTF-16 units of name, then the status
        await tick(rt)
        assert refused(fake) == []
        assert await OutboxMessage.exclude(status=OutboxStatus.SENT).count() == 0
        assert await LeadNote.all().count() == 4
