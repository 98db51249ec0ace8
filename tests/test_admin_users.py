"""/users end to end: find a person, read their card, change role and capabilities by
button; the changes are events with the actor; forged presses and self-lockout refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.clock import FakeClock
from core.roles import Capability as C
from core.roles import capabilities_of
from models import EventRecord, Role, User
from sandbox import FakeTelegram
from tests.bot_support import tick


def buttons_of(message: dict[str, Any]) -> dict[str, str]:
    """callback_data → button text of a message's inline keyboard."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["callback_data"]: b["text"] for row in rows for b in row}


async def start(fake: FakeTelegram, user_id: int) -> None:
    sent = fake.send_start(user_id)
    await fake.wait_for_messages(user_id, after=sent["message_id"])


async def say(fake: FakeTelegram, user_id: int, text: str, count: int = 1) -> list[dict[str, Any]]:
    sent = fake.send_text(user_id, text)
    return await fake.wait_for_messages(user_id, count, after=sent["message_id"])


async def forge(fake: FakeTelegram, user: Any, message_id: int, data: str) -> dict[str, Any]:
    """A forged button press: a client may send any callback data for any message."""
    query_id = fake.world.new_query_id()
    query = {
        "id": query_id,
        "from": user.to_api(),
        "message": dict(fake.world.chat(user.id).messages[message_id]),
        "chat_instance": "1",
        "data": data,
    }
    fake.world.callbacks[query_id] = query
    fake.world.push_update("callback_query", query)
    answer: dict[str, Any] = await fake.wait_for_answer(query_id)
    return answer


async def press(fake: FakeTelegram, user_id: int, message_id: int, data: str) -> dict[str, Any]:
    query_id = fake.press_button(user_id, message_id, data=data)
    answer: dict[str, Any] = await fake.wait_for_answer(query_id)
    return answer


async def test_an_admin_finds_a_user_and_changes_role_and_capabilities(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    pavel = fake.create_user("<b>Pavel</b>", last_name="& Co", username="pavel_p")
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        await start(fake, pavel.id)
        target = await User.get(telegram_id=pavel.id)

        # by name substring, hostile markup shown as text
        (found,) = await say(fake, ada.id, "/users pav")
        assert found["text"] == "Found: 1"
        assert buttons_of(found) == {f"usr:{target.id}": "<b>Pavel</b> & Co @pavel_p · candidate"}
        # by @username and by Telegram id
        assert (await say(fake, ada.id, "/users @PAVEL_P"))[0]["text"] == "Found: 1"
        assert (await say(fake, ada.id, f"/users {pavel.id}"))[0]["text"] == "Found: 1"
        (none,) = await say(fake, ada.id, "/users <i>zz</i>")
        assert none["text"] == "Nobody found for “<i>zz</i>”."

        # without a query: asked, and the answer is the search
        (asked,) = await say(fake, ada.id, "/users")
        assert f"usr:{target.id}" in buttons_of(asked)
        (answer,) = await say(fake, ada.id, "Pavel")
        assert answer["text"] == "Found: 1"

        await press(fake, ada.id, found["message_id"], f"usr:{target.id}")
        (card,) = await fake.wait_for_messages(ada.id, after=answer["message_id"])
        assert card["text"].startswith("<b>Pavel</b> & Co\n@pavel_p\n")
        assert f"Telegram id: {pavel.id}" in card["text"]
        assert "Role: candidate" in card["text"]
        assert "✓ candidate" in buttons_of(card).values()

        clock.advance(60)
        answer = await press(fake, ada.id, card["message_id"], f"usr:{target.id}:role:partner")
        assert answer.get("text") == "Saved."
        await tick(rt)
        card = fake.messages(ada.id)[-1]  # edited in place
        assert "Role: partner" in card["text"]
        assert "✅ leads_view_own" in card["text"]
        assert buttons_of(card)[f"usr:{target.id}:role:partner"] == "✓ partner"

        await press(fake, ada.id, card["message_id"], f"usr:{target.id}:cap:broadcast:1")
        await press(fake, ada.id, card["message_id"], f"usr:{target.id}:cap:leads_view_own:0")
        await tick(rt)
        target = await User.get(id=target.id)
        assert target.role == Role.PARTNER
        assert await capabilities_of(target) == {C.BROADCAST}
        card = fake.messages(ada.id)[-1]
        assert "✅ broadcast (granted)" in card["text"]
        assert "🚫 leads_view_own (withdrawn)" in card["text"]
        assert f"usr:{target.id}:cap:broadcast:0" in buttons_of(card)
        # the history names who and when (Moscow time: the fake clock starts at 2027-01-15)
        assert "Latest changes:" in card["text"]
        assert "15.01.2027 11:01 — Ada: role candidate → partner" in card["text"]
        assert "Ada: granted broadcast" in card["text"]
        assert "Ada: withdrew leads_view_own" in card["text"]

        admin = await User.get(telegram_id=ada.id)
        events = await EventRecord.filter(
            name__in=("core_user_role_set", "core_user_capability_set")
        ).order_by("id")
        assert [(e.payload["actor"], e.payload["user_id"]) for e in events] == [
            (f"user:{admin.id}", target.id)
        ] * 3


async def test_forged_presses_and_self_lockout_are_refused(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    pavel = fake.create_user("Pavel", language_code="en")
    await User.create(
        telegram_id=pavel.id, role=Role.PARTNER, created_at=clock.now(), updated_at=clock.now()
    )
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        await start(fake, pavel.id)
        admin = await User.get(telegram_id=ada.id)
        partner = await User.get(telegram_id=pavel.id)

        # a partner has no /users, and a forged button changes nothing
        (refused,) = await say(fake, pavel.id, "/users")
        assert "users_manage_roles" in refused["text"]
        answer = await forge(fake, pavel, refused["message_id"], f"usr:{admin.id}:role:candidate")
        assert "users_manage_roles" in answer["text"]
        answer = await forge(fake, pavel, refused["message_id"], f"usr:{partner.id}:role:admin")
        assert "users_manage_roles" in answer["text"]

        # the admin cannot lock herself out; bad data is refused (data that is no button of
        # ours at all ends at the fallback, as a stale button does)
        (found,) = await say(fake, ada.id, f"/users {ada.id}")
        for data, expected, alert in (
            (f"usr:{admin.id}:role:partner", "You cannot change your own role", True),
            (
                f"usr:{admin.id}:cap:users_manage_roles:0",
                "You cannot withdraw your own right",
                True,
            ),
            ("usr:999999:role:admin", "This button is not valid.", True),
            (f"usr:{partner.id}:role:emperor", "This button no longer works.", False),
            (f"usr:{partner.id}:cap:fly:1", "This button no longer works.", False),
            (f"usr:{partner.id}:role:admin:x", "This button no longer works.", False),
        ):
            answer = await forge(fake, ada, found["message_id"], data)
            assert answer["text"].startswith(expected), data
            assert answer["show_alert"] is alert, data
        await tick(rt)
        assert (await User.get(id=admin.id)).role == Role.ADMIN
        assert (await User.get(id=partner.id)).role == Role.PARTNER
        assert C.USERS_MANAGE_ROLES in await capabilities_of(admin)
        assert await EventRecord.filter(name__startswith="core_user_").count() == 0


async def test_the_last_admin_stays_an_admin(
    product: Callable[..., Any], telegram: tuple[FakeTelegram, str], clock: FakeClock
) -> None:
    fake, _ = telegram
    ada = fake.create_user("Ada", language_code="en")
    bob = fake.create_user("Bob", language_code="en")
    await User.create(
        telegram_id=bob.id, role=Role.ADMIN, created_at=clock.now(), updated_at=clock.now()
    )
    async with product(admin_ids=(ada.id,)) as rt:
        await start(fake, ada.id)
        await start(fake, bob.id)
        admin, other = await User.get(telegram_id=ada.id), await User.get(telegram_id=bob.id)

        (found,) = await say(fake, ada.id, f"/users {bob.id}")
        answer = await forge(fake, ada, found["message_id"], f"usr:{other.id}:role:partner")
        assert answer.get("text") == "Saved."
        # Ada is the last admin now: neither her role nor her right can go, by any button.
        for data in (f"usr:{admin.id}:role:speaker", f"usr:{admin.id}:cap:users_manage_roles:0"):
            answer = await forge(fake, ada, found["message_id"], data)
            assert answer["text"].startswith("You cannot"), data
            assert answer["show_alert"] is True
        # And Bob, no longer an admin, cannot make himself one again.
        bobs = fake.messages(bob.id)[-1]["message_id"]
        answer = await forge(fake, bob, bobs, f"usr:{other.id}:role:admin")
        assert "users_manage_roles" in answer["text"]
        await tick(rt)

        assert (await User.get(id=admin.id)).role == Role.ADMIN
        assert C.USERS_MANAGE_ROLES in await capabilities_of(admin)
        events = await EventRecord.filter(name__startswith="core_user_").order_by("id")
        assert [(e.payload["user_id"], e.payload["role"]) for e in events] == [
            (other.id, "partner")
        ]
