"""The fake Bot API, driven by the real aiogram `Bot` over HTTP, as the product drives it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from core.clock import FakeClock
from sandbox import FakeTelegram, RateLimiter, RateLimits, SandboxUser
from sandbox.users import UserActionError
from tests.telegram_helpers import TOKEN, fake_bot, png

PNG = png(2, 3)


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram(TOKEN)


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with fake_bot(fake) as bot:
        yield bot


@pytest.fixture
def anna(fake: FakeTelegram) -> SandboxUser:
    """A user who has opened the bot (so it may write to her)."""
    user = fake.create_user("Anna", username="anna_k")
    fake.send_start(user.id)
    return user


def yes_no() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Yes", callback_data="answer:yes"),
                InlineKeyboardButton(text="No", callback_data="answer:no"),
            ],
            [InlineKeyboardButton(text="Site", url="https://example.com/")],
        ]
    )


async def test_get_me_is_the_sandbox_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == 4242
    assert me.username == "funnel_sandbox_bot"


async def test_send_message_stores_html_as_text_and_entities(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    sent = await bot.send_message(
        anna.id, "<b>Привет</b>, &lt;друг&gt;! Жми /help 👋", reply_markup=yes_no()
    )

    assert sent.text == "Привет, <друг>! Жми /help 👋"
    assert sent.html_text == "<b>Привет</b>, &lt;друг&gt;! Жми /help 👋"
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    assert sent.chat.id == anna.id
    assert sent.chat.type == "private"
    assert [m["text"] for m in fake.bot_messages(anna.id)] == [sent.text]
    shown = fake.bot_messages(anna.id)[0]
    assert [e["type"] for e in shown["entities"]] == ["bold", "bot_command"]
    buttons = shown["reply_markup"]["inline_keyboard"]
    assert buttons[1] == [{"text": "Site", "url": "https://example.com/"}]


async def test_entity_offsets_count_utf16_like_telegram(bot: Bot, anna: SandboxUser) -> None:
    sent = await bot.send_message(anna.id, "👋 <i>hi</i>")
    assert sent.entities is not None
    assert (sent.entities[0].offset, sent.entities[0].length) == (3, 2)  # 👋 is two units


async def test_bad_html_is_refused_as_telegram_refuses_it(bot: Bot, anna: SandboxUser) -> None:
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div"'):
        await bot.send_message(anna.id, "<div>hi</div>")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag"):
        await bot.send_message(anna.id, "<b>hi")
    too_long = InlineKeyboardButton(text="x", callback_data="x" * 65)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            anna.id, "hi", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[too_long]])
        )


async def test_edit_and_delete_round_trip(bot: Bot, fake: FakeTelegram, anna: SandboxUser) -> None:
    sent = await bot.send_message(anna.id, "Registration is <b>open</b>", reply_markup=yes_no())

    edited = await bot.edit_message_text(
        text="Registration is <b>closed</b>", chat_id=anna.id, message_id=sent.message_id
    )
    assert not isinstance(edited, bool)
    assert edited.text == "Registration is closed"
    assert edited.edit_date is not None
    # An edit that does not repeat the keyboard removes it, as in Telegram.
    assert "reply_markup" not in fake.bot_messages(anna.id)[0]
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Registration is <b>closed</b>", chat_id=anna.id, message_id=sent.message_id
        )
    marked = await bot.edit_message_reply_markup(
        chat_id=anna.id, message_id=sent.message_id, reply_markup=yes_no()
    )
    assert not isinstance(marked, bool)
    assert marked.reply_markup is not None
    assert [b.text for b in marked.reply_markup.inline_keyboard[0]] == ["Yes", "No"]

    assert await bot.delete_message(anna.id, sent.message_id) is True
    assert fake.bot_messages(anna.id) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(anna.id, sent.message_id)
    start_message = fake.messages(anna.id)[0]  # the user's own /start
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(
            text="hacked", chat_id=anna.id, message_id=start_message["message_id"]
        )


async def test_button_press_reaches_the_bot_and_its_answer_reaches_the_user(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    sent = await bot.send_message(anna.id, "Coming?", reply_markup=yes_no())
    await bot.get_updates(offset=-1)  # the /start is old news

    query_id = fake.press_button(anna.id, sent.message_id, text="Yes")
    updates = await bot.get_updates(offset=(await bot.get_updates())[0].update_id, timeout=1)

    query = updates[-1].callback_query
    assert query is not None
    assert query.id == query_id
    assert query.data == "answer:yes"
    assert query.from_user.id == anna.id
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query_id, text="See you there!") is True
    answer = await fake.wait_for_answer(query_id)
    assert answer["text"] == "See you there!"
    assert answer["show_alert"] is False
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


async def test_photo_and_document_uploads_keep_name_size_and_bytes(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    photo = await bot.send_photo(anna.id, BufferedInputFile(PNG, "dot.png"), caption="A <b>dot</b>")
    document = await bot.send_document(
        anna.id, BufferedInputFile(b"agenda\n", "agenda.txt"), caption="Agenda"
    )

    assert photo.photo is not None
    assert (photo.photo[-1].width, photo.photo[-1].height) == (2, 3)
    assert photo.caption == "A dot"
    assert document.document is not None
    assert document.document.file_name == "agenda.txt"
    assert document.document.file_size == 7
    assert document.document.mime_type == "text/plain"
    downloaded = await bot.download(document.document.file_id)
    assert downloaded is not None
    assert downloaded.read() == b"agenda\n"
    stored = fake.world.files[photo.photo[-1].file_id]
    assert stored.data == PNG
    assert stored.name == "dot.png"
    # A file id is reusable, as in Telegram.
    again = await bot.send_document(anna.id, document.document.file_id)
    assert again.document is not None
    assert again.document.file_id == document.document.file_id
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(anna.id, BufferedInputFile(b"not an image", "x.png"))


async def test_errors_map_to_aiogram_exceptions(bot: Bot, fake: FakeTelegram) -> None:
    stranger = fake.create_user("Stranger")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(123456, "hi")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(stranger.id, "hi")
    fake.send_start(stranger.id)
    fake.block_bot(stranger.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(stranger.id, "hi")
    async with fake_bot(fake, token="4242:wrong") as intruder:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await intruder.get_me()

    class SendFlyingPig(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendFlyingPig"

    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot(SendFlyingPig())


async def test_errors_have_telegrams_exact_shape(fake: FakeTelegram) -> None:
    async with fake.serve() as base, aiohttp.ClientSession() as http:
        async with http.post(f"{base}/bot{TOKEN}/sendMessage", data={"chat_id": "1"}) as r:
            body = await r.json()
        assert (r.status, body) == (
            400,
            {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
        )
        async with http.get(f"{base}/bot1:nope/getMe") as r:
            assert (r.status, await r.json())[1]["description"] == "Unauthorized"
        async with http.get(f"{base}/bot{TOKEN}/nope") as r:
            assert r.status == 404
            assert (await r.json())["description"] == "Not Found: method not found"


async def test_json_bodies_and_plain_forms_work_too(fake: FakeTelegram, anna: SandboxUser) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    async with fake.serve() as base, aiohttp.ClientSession() as http:
        as_json = {"chat_id": anna.id, "text": "json", "reply_markup": markup}
        async with http.post(f"{base}/bot{TOKEN}/sendmessage", json=as_json) as r:
            assert (await r.json())["result"]["reply_markup"] == markup
        as_form = {"chat_id": str(anna.id), "text": "form", "reply_markup": json.dumps(markup)}
        async with http.post(f"{base}/bot{TOKEN}/sendMessage", data=as_form) as r:
            assert (await r.json())["ok"] is True
        form = aiohttp.FormData()
        form.add_field("chat_id", str(anna.id))
        form.add_field("document", b"%PDF-1.4", filename="plan.pdf")
        async with http.post(f"{base}/bot{TOKEN}/sendDocument", data=form) as r:
            document = (await r.json())["result"]["document"]
    assert document["file_name"] == "plan.pdf"
    assert document["file_size"] == 8
    assert [m.get("text") for m in fake.bot_messages(anna.id)] == ["json", "form", None]


async def test_long_polling_waits_then_returns_updates_in_order(
    bot: Bot, fake: FakeTelegram
) -> None:
    assert await bot.get_updates(timeout=0) == []
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_until(lambda: any(c.method == "getUpdates" for c in fake.calls[1:]))
    assert not poll.done()  # it waits for an update instead of answering empty

    user = fake.create_user("Boris")
    fake.send_start(user.id, "tok_1")
    first = await asyncio.wait_for(poll, 2)
    fake.send_text(user.id, "second")
    fake.send_text(user.id, "third")

    assert [u.message.text for u in first if u.message] == ["/start tok_1"]
    # Not confirmed yet: the same update comes again, with the later ones, in order.
    again = await bot.get_updates()
    assert [u.message.text for u in again if u.message] == ["/start tok_1", "second", "third"]
    ids = [u.update_id for u in again]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    limited = await bot.get_updates(offset=ids[0] + 1, limit=1)
    assert [u.update_id for u in limited] == [ids[1]]
    assert await bot.get_updates(offset=ids[-1] + 1) == []


async def test_allowed_updates_filters_what_the_bot_receives(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    sent = await bot.send_message(anna.id, "Coming?", reply_markup=yes_no())
    await bot.get_updates(offset=-1, allowed_updates=["message"])
    fake.press_button(anna.id, sent.message_id, data="answer:no")
    fake.send_text(anna.id, "sorry")
    updates = await bot.get_updates(offset=(await bot.get_updates())[0].update_id + 1)
    assert [(u.message.text if u.message else "other") for u in updates] == ["sorry"]


async def test_a_second_poller_ends_the_first_with_409(bot: Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_until(lambda: fake.calls and fake.calls[-1].method == "getUpdates")
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError):
        await asyncio.wait_for(first, 2)
    assert await second == []


async def test_commands_per_language(bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Начать")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Start")], language_code="en"
    )
    assert [c.description for c in await bot.get_my_commands()] == ["Начать"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert await bot.delete_my_commands(language_code="en") is True
    assert await bot.get_my_commands(language_code="en") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_reply_keyboard_chat_action_and_get_chat(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Да"), KeyboardButton(text="Нет")]]
    )
    await bot.send_message(anna.id, "Придёте?", reply_markup=keyboard)
    assert fake.world.chat(anna.id).keyboard == {"keyboard": [[{"text": "Да"}, {"text": "Нет"}]]}
    assert "reply_markup" not in fake.bot_messages(anna.id)[0]  # not part of the message
    assert await bot.send_chat_action(anna.id, "typing") is True
    chat = await bot.get_chat(anna.id)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Anna", "anna_k")


async def test_a_user_shares_their_own_contact_through_a_request_contact_button(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    with pytest.raises(UserActionError, match="no button that shares the phone number"):
        fake.share_contact(anna.id, "+7 916 123-45-67")  # nothing asked for it
    share = KeyboardButton(text="Share my number", request_contact=True)
    await bot.send_message(
        anna.id, "Your number?", reply_markup=ReplyKeyboardMarkup(keyboard=[[share]])
    )
    await bot.get_updates(offset=-1)  # the /start is old news

    fake.share_contact(anna.id, "+7 916 123-45-67")  # her account's number, from now on
    bob = fake.create_user("Bob", phone_number="+44 7911 123456")
    fake.send_start(bob.id)
    fake.send_contact(
        anna.id, "+44 7911 123456", "Bob", contact_user_id=bob.id, forwarded_from=bob.id
    )
    fake.send_contact(anna.id, "8 800 000 00 00", "Shop")  # from her address book
    updates = await bot.get_updates(offset=(await bot.get_updates())[0].update_id + 1)

    own, _, forwarded, card = [
        u.message.model_dump(exclude_none=True) for u in updates if u.message
    ]
    anna_api = {"id": anna.id, "is_bot": False, "first_name": "Anna", "username": "anna_k"}
    assert own["contact"] == {"phone_number": "79161234567", "first_name": "Anna"} | {
        "user_id": anna.id
    }
    assert own["from_user"] == anna_api | {"language_code": "ru"}
    assert forwarded["contact"] == {"phone_number": "447911123456", "first_name": "Bob"} | {
        "user_id": bob.id
    }
    assert forwarded["forward_origin"]["sender_user"]["id"] == bob.id
    assert card["contact"] == {"phone_number": "88000000000", "first_name": "Shop"}

    await bot.send_message(
        anna.id, "Thanks", reply_markup=ReplyKeyboardRemove(remove_keyboard=True)
    )
    assert fake.world.chat(anna.id).keyboard is None
    with pytest.raises(UserActionError, match="no button that shares the phone number"):
        fake.share_contact(anna.id)


async def test_wait_for_messages_says_what_did_arrive(fake: FakeTelegram) -> None:
    user = fake.create_user("Vera")
    with pytest.raises(TimeoutError, match=r"expected 1 bot message\(s\)"):
        await fake.wait_for_messages(user.id, timeout=0.05)


async def test_rate_limits_answer_429_with_retry_after_and_count_violations(
    clock: FakeClock,
) -> None:
    fake = FakeTelegram(TOKEN)
    limiter = fake.enforce_limits(RateLimiter(RateLimits(per_second=3), clock=clock.now))
    users = [fake.create_user(f"U{i}") for i in range(5)]
    for user in users:
        fake.send_start(user.id)
    async with fake_bot(fake) as bot:
        await bot.send_message(users[0].id, "one")
        with pytest.raises(TelegramRetryAfter) as per_chat:
            await bot.send_message(users[0].id, "two, too soon")
        await bot.send_message(users[1].id, "to another chat")
        await bot.send_message(users[2].id, "third this second")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(users[3].id, "fourth this second")
        clock.advance(1.0)
        await bot.send_message(users[0].id, "a second later")

    assert per_chat.value.retry_after == 1
    assert [(v.rule, v.chat_id) for v in limiter.violations] == [
        ("chat", users[0].id),
        ("global", users[3].id),
    ]
    assert limiter.sent == 4


def test_limits_can_be_switched_on_by_the_constructor() -> None:
    fake = FakeTelegram(TOKEN, rate_limits=True)
    assert fake.limiter is not None
    assert fake.limiter.limits == RateLimits(30, 1, 20)


def test_rate_limiter_counts_groups_per_minute(clock: FakeClock) -> None:
    limiter = RateLimiter(RateLimits(per_group_per_minute=2), clock=clock.now)
    for _ in range(2):
        limiter.check("sendMessage", -100)
        clock.advance(1.5)
    limiter.check("editMessageText", -100)  # edits are not sends
    with pytest.raises(Exception, match="retry after 57"):
        limiter.check("sendMessage", -100)


async def test_a_user_sends_a_photo_the_bot_can_send_on(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    sent = fake.send_photo(anna.id, PNG, caption="/profile")
    update = fake.world.updates[-1]["message"]
    assert update["message_id"] == sent["message_id"]
    assert update["caption"] == "/profile"
    (size,) = update["photo"]
    assert (size["width"], size["height"]) == (2, 3)
    forwarded = await bot.send_photo(anna.id, size["file_id"])
    assert forwarded.photo
    with pytest.raises(UserActionError, match="only an image"):
        fake.send_photo(anna.id, b"not an image")


async def test_telegrams_size_limits_count_utf16_after_parsing(bot: Bot, anna: SandboxUser) -> None:
    # 4,096 units of text are fine however much markup carries them; one more is refused.
    fits = "<b>" + "😀" * 2048 + "</b>"
    sent = await bot.send_message(anna.id, fits)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(anna.id, fits + "x")
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.edit_message_text("&amp;" * 4097, chat_id=anna.id, message_id=sent.message_id)
    photo = BufferedInputFile(PNG, "p.png")
    await bot.send_photo(anna.id, photo, caption="😀" * 512)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_photo(anna.id, photo, caption="😀" * 512 + "x")
    exactly = InlineKeyboardButton(text="x", callback_data="я" * 32)  # 64 bytes
    await bot.send_message(
        anna.id, "hi", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[exactly]])
    )
    over = InlineKeyboardButton(text="x", callback_data="я" * 32 + "x")
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(
            anna.id, "hi", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[over]])
        )


async def test_the_fake_can_be_told_how_to_fail(
    bot: Bot, fake: FakeTelegram, anna: SandboxUser
) -> None:
    fake.fail("sendPhoto", 404, "Not Found")
    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot.send_photo(anna.id, BufferedInputFile(PNG, "p.png"))
    await bot.send_photo(anna.id, BufferedInputFile(PNG, "p.png"))  # once only, by default
    cases: list[tuple[int, str, type[Exception]]] = [
        (409, "Conflict: terminated by other getUpdates request", TelegramConflictError),
        (413, "Request Entity Too Large", TelegramEntityTooLarge),
        (502, "Bad Gateway", TelegramServerError),
        (418, "I'm a teapot", TelegramAPIError),
    ]
    for status, description, raised in cases:
        fake.fail("sendMessage", status, description)
        with pytest.raises(raised, match=description):
            await bot.send_message(anna.id, "hi")
    moved = fake.fail(
        "sendMessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": -1001234},
        chat_id=anna.id,
        times=None,
    )
    for _ in range(2):
        with pytest.raises(TelegramMigrateToChat) as migrated:
            await bot.send_message(anna.id, "hi")
        assert migrated.value.migrate_to_chat_id == -1001234
    assert moved.hits == 2
    fake.faults.clear()
    fake.fail("sendMessage", disconnect=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(anna.id, "hi")
    fake.fail("sendMessage", 502, body="<html>Bad Gateway</html>")
    with pytest.raises(ClientDecodeError):
        await bot.send_message(anna.id, "hi")
    assert (await bot.send_message(anna.id, "at last")).text == "at last"


async def test_a_group_upgraded_to_a_supergroup_answers_with_its_new_id(
    bot: Bot, fake: FakeTelegram
) -> None:
    group = fake.create_group("Partners")
    await bot.send_message(group.id, "hello group")
    supergroup = fake.migrate_group(group.id)
    assert str(supergroup.id).startswith("-100")
    with pytest.raises(TelegramMigrateToChat) as migrated:
        await bot.send_message(group.id, "hello again")
    assert migrated.value.migrate_to_chat_id == supergroup.id
    sent = await bot.send_message(supergroup.id, "hello supergroup")
    assert sent.chat.type == "supergroup"
    assert [m["text"] for m in fake.bot_messages(group.id)] == ["hello group"]
    assert [m["text"] for m in fake.bot_messages(supergroup.id)] == ["hello supergroup"]
