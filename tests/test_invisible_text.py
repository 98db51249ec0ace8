"""Bidi overrides, zero-width and other invisible characters never reach what a partner
reads: names are cleaned once, where they come in (form, webhook, Telegram, profile)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from core.clock import FakeClock
from core.contact import RawContact, normalise
from core.crm import clean_note
from core.profiles import clean_name
from core.visible import visible_line, visible_text
from models import LeadEntry, Role, User
from sandbox import FakeTelegram
from tests.bot_support import notice_in, register, tick
from tests.test_leads import buttons, command, press

# What a spoofer types, and what anyone may see of it.
SPOOFS = [
    ("Anna\u202etxt.exe", "Annatxt.exe"),  # RIGHT-TO-LEFT OVERRIDE
    ("\u2067Admin\u2069 Support", "Admin Support"),  # isolates
    ("Bo\u200bris\ufeff", "Boris"),  # zero-width space, BOM
    ("Ol\u00adga\u2060", "Olga"),  # soft hyphen, word joiner
    ("\u200e\u200fIvan\u061c", "Ivan"),  # LRM, RLM, Arabic letter mark
    ("Tag\U000e0041\U000e007f", "Tag"),  # tag characters
    ("\u3164\u3164", ""),  # Hangul fillers: an "invisible name"
    ("Eve\x00\x07\x1b[31m", "Eve[31m"),  # controls
    ("Anna\u2028Maria\tPetrova\u00a0\u3000", "Anna Maria Petrova"),
    ("Zo\u0065\u0301", "Zo\u00e9"),  # NFC: one é however it was typed
]
BAD = set("\u202e\u2067\u2069\u200b\ufeff\u00ad\u2060\u200e\u200f\u061c\u3164\x00\x07\x1b")


@pytest.mark.parametrize(("typed", "seen"), SPOOFS)
def test_a_name_keeps_only_what_is_visible(typed: str, seen: str) -> None:
    assert visible_line(typed) == seen
    assert visible_line(seen) == seen  # cleaning twice changes nothing


def test_emoji_sequences_stay_whole() -> None:
    for emoji in ("👩\u200d💻", "👨\u200d👩\u200d👧", "❤\ufe0f", "👍🏽", "🏳\ufe0f\u200d🌈"):
        assert visible_line(f"Anna {emoji}") == f"Anna {emoji}"
    assert visible_line("a\u200db") == "ab"  # a joiner between letters is only invisible


def test_notes_keep_their_lines_but_not_the_spoofs() -> None:
    assert visible_text("call\u202e back\r\n\r\n\r\n\u200bat 5\u2028pm ") == "call back\n\nat 5\npm"
    assert clean_note("ok\u2066 then") == "ok then"


def test_every_name_like_field_is_cleaned() -> None:
    contact = normalise(
        RawContact(
            source="tilda",
            name="\u202eAnna",
            phone="+7 916\u200b 123 45 67",
            email="anna\u200b@example.com",
            webinar_id="w\u202e1",
            utm={"utm_source": "vk\u2066", "utm_campaign": "\u200b"},
        ),
        region="RU",
        require_phone=True,
    )
    assert (contact.name, contact.phone, contact.email) == (
        "Anna",
        "+79161234567",
        "anna@example.com",
    )
    assert (contact.webinar_id, contact.utm) == ("w1", {"utm_source": "vk"})
    assert clean_name("\u2067Pavel\u2069\u200b") == "Pavel"


def test_a_name_of_invisible_characters_is_no_name() -> None:
    from core.contact import ContactError

    with pytest.raises(ContactError) as refused:
        normalise(
            RawContact(source="web_form", name="\u200b\u202e\u3164", phone="+79161234567"),
            region="RU",
            require_phone=True,
        )
    assert set(refused.value.errors) == {"name"}


async def test_a_partner_sees_only_visible_names_everywhere(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    pavel_tg = fake.create_user("Pavel", language_code="en")
    fake.send_start(pavel_tg.id)
    await User.create(
        telegram_id=pavel_tg.id,
        chat_id=pavel_tg.id,
        role=Role.PARTNER,
        ref_code="pavel",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    async with product() as rt:
        # A visitor of the form, and a Telegram user of the partner's `ref_` link.
        await register(rt, name="Anna\u202etxt.exe\u200b", query={"ref": "pavel"})
        form_notice = notice_in(await fake.wait_for_messages(pavel_tg.id, 2))
        eve_tg = fake.create_user("\u2067Eve\u2069", last_name="\ufeffAdmin\u200f")
        fake.send_start(eve_tg.id, "ref_pavel")
        messages = await fake.wait_for_messages(pavel_tg.id, 3)
        tg_notice = messages[-1]

        assert "Annatxt.exe" in form_notice["text"]
        assert "Eve Admin" in tg_notice["text"]
        for notice in (form_notice, tg_notice):
            assert not BAD & set(notice["text"])
        eve = await User.get(telegram_id=eve_tg.id)
        assert (eve.first_name, eve.last_name) == ("Eve", "Admin")

        # The card, opened from the notice.
        button = form_notice["reply_markup"]["inline_keyboard"][0][0]
        await press(fake, pavel_tg, form_notice, button["callback_data"])
        card = (await fake.wait_for_messages(pavel_tg.id, 4))[-1]
        assert "Annatxt.exe" in card["text"]
        assert not BAD & set(card["text"])

        # The /leads buttons.
        (page,) = await command(fake, pavel_tg, "/leads")
        labels = [b["text"] for b in buttons(page)]
        assert "Eve Admin · New" in labels
        assert "Annatxt.exe · New" in labels
        assert not BAD & set("".join(labels))

        # The CSV export.
        (document,) = await command(fake, pavel_tg, "/export")
        data = fake.world.files[document["document"]["file_id"]].data.decode("utf-8-sig")
        names = sorted(row["name"] for row in csv.DictReader(io.StringIO(data)))
        assert names == ["Annatxt.exe", "Eve Admin"]
        await tick(rt)
        stored = [lead.name for lead in await LeadEntry.all()]
        assert sorted(stored) == ["Annatxt.exe", "Eve Admin"]
