"""/help shows each person the commands their rights open, and nothing more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models import Role, User
from sandbox import FakeTelegram


async def help_for(fake: FakeTelegram, user_id: int) -> str:
    sent = fake.send_text(user_id, "/help")
    (answer,) = await fake.wait_for_messages(user_id, 1, after=sent["message_id"])
    return str(answer["text"])


async def test_help_lists_the_tools_each_role_may_use(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product():
        people = {role: fake.create_user(f"{role.value} person") for role in Role}
        for person in people.values():  # the user row appears on first contact
            await help_for(fake, person.id)
        for role, person in people.items():
            await User.filter(telegram_id=person.id).update(role=role)
        shown = {role: await help_for(fake, person.id) for role, person in people.items()}

    for text in shown.values():
        assert "/apply" in text
        assert "/language" in text
    assert "/leads" not in shown[Role.CANDIDATE]
    assert "/ref" not in shown[Role.CANDIDATE]
    assert "/leads" in shown[Role.PARTNER]
    assert "/ref" in shown[Role.PARTNER]
    assert "/users" not in shown[Role.PARTNER]
    assert "/broadcast" not in shown[Role.SPEAKER]
    assert "/users" in shown[Role.ADMIN]
    assert "/broadcast" in shown[Role.ADMIN]
    assert "/series" not in shown[Role.PARTNER]
    assert "/series" in shown[Role.SPEAKER]
    assert "/series" in shown[Role.ADMIN]


async def test_answers_come_in_the_order_the_person_wrote(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str]
) -> None:
    fake, _ = telegram
    async with product():
        zoe = fake.create_user("Zoe", language_code="en")
        first = fake.send_text(zoe.id, "/start")
        for _ in range(3):  # written faster than the bot answers
            fake.send_text(zoe.id, "/start")
            fake.send_text(zoe.id, "hello?")
        # A chat gets about one message a second (Telegram's limit): 7 take ~7 s.
        answers = await fake.wait_for_messages(zoe.id, 7, 20, after=first["message_id"])
    kinds = ["greeting" if a["text"].startswith("Hello, Zoe") else "other" for a in answers]
    assert kinds == ["greeting"] + ["greeting", "other"] * 3
