"""Property-based tests of everything that parses untrusted input: whatever arrives, the
answer is the intended error (or success), never an exception nobody planned for."""

from __future__ import annotations

import json
import unicodedata
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.contact import (
    UTM_KEYS,
    UTM_LENGTH,
    ContactError,
    RawContact,
    normalise,
    valid_tz,
)
from core.safejson import MAX_DEPTH, JsonError, loads
from core.visible import INVISIBLE, ZWJ, visible_line, visible_text
from models.leads import EMAIL_LENGTH, NAME_LENGTH, PHONE_LENGTH, WEBINAR_ID_LENGTH
from tests.web_support import make_client, open_form
from web.signing import sign, unsign

SECRET = "k" * 40
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)
# Text as a browser can send it (no lone surrogates: they cannot be UTF-8).
FORM_TEXT = st.text(max_size=300)
HOSTILE = st.sampled_from(
    ["\u202e", "\u200b", "\ufeff", "\u2066", "\u2069", "\x00", "\u3164", "@", ".", " ", "\n"]
)
MIXED = st.lists(st.one_of(HOSTILE, st.characters(), st.just("a")), max_size=80).map("".join)
# The same, as a browser can send it: a form is UTF-8, which has no lone surrogates.
BROWSER_MIXED = MIXED.map(lambda v: "".join(c for c in v if not 0xD800 <= ord(c) <= 0xDFFF))
PROPERTY = settings(max_examples=300, deadline=None)
APP_PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def storable(value: str) -> bool:
    """What every database we run on can hold in a text column."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def all_visible(value: str) -> bool:
    for i, char in enumerate(value):
        if char in INVISIBLE or unicodedata.category(char) in ("Cc", "Cs"):
            return False
        if unicodedata.category(char) == "Cf" and not (char == ZWJ and 0 < i < len(value) - 1):
            return False
    return True


# ---- normalisers --------------------------------------------------------------------------


@PROPERTY
@given(st.one_of(ANY_TEXT, MIXED))
def test_visible_line_keeps_one_line_of_visible_text(value):
    line = visible_line(value)
    assert all_visible(line)
    assert "\n" not in line
    assert line == line.strip()
    assert "  " not in line
    assert visible_line(line) == line


@PROPERTY
@given(st.one_of(ANY_TEXT, MIXED))
def test_visible_text_keeps_lines_of_visible_text(value):
    text = visible_text(value)
    assert all(all_visible(line) for line in text.split("\n"))
    assert "\n\n\n" not in text
    assert visible_text(text) == text


@PROPERTY
@given(
    name=st.one_of(ANY_TEXT, MIXED),
    phone=st.one_of(ANY_TEXT, st.from_regex(r"\+?[0-9 ()-]{0,30}", fullmatch=True)),
    email=st.one_of(ANY_TEXT, MIXED, st.emails().map(str)),
    source=st.one_of(ANY_TEXT, st.sampled_from(["web_form", "tilda", "Tilda "])),
    ref=ANY_TEXT,
    tz=st.one_of(ANY_TEXT, st.sampled_from(["Europe/Moscow", "../etc/passwd", "UTC"])),
    webinar_id=ANY_TEXT,
    utm=st.dictionaries(st.sampled_from([*UTM_KEYS, "utm_x", "evil"]), ANY_TEXT, max_size=6),
    consent=st.booleans(),
    require_phone=st.booleans(),
)
def test_contact_normalisation_raises_only_contact_errors(
    name, phone, email, source, ref, tz, webinar_id, utm, consent, require_phone
):
    raw = RawContact(
        source=source,
        name=name,
        phone=phone,
        email=email,
        consent=consent,
        ref=ref,
        tz=tz,
        webinar_id=webinar_id,
        utm=utm,
        locale="ru",
    )
    try:
        contact = normalise(raw, region="RU", require_phone=require_phone)
    except ContactError as exc:
        errors = exc.errors
    else:
        errors = {}
    if errors:
        assert set(errors) <= {"name", "phone", "email", "consent", "source"}
        return
    texts = [contact.name, contact.phone or "", contact.email or "", contact.source]
    texts += [contact.ref or "", contact.tz or "", contact.webinar_id or ""]
    texts += list(contact.utm.values())
    assert all(storable(text) for text in texts)
    assert len(contact.name) <= NAME_LENGTH
    assert all_visible(contact.name)
    assert contact.phone is None or len(contact.phone) <= PHONE_LENGTH
    assert contact.email is None or len(contact.email.encode()) <= EMAIL_LENGTH
    assert contact.webinar_id is None or len(contact.webinar_id) <= WEBINAR_ID_LENGTH
    assert all(len(tag) <= UTM_LENGTH for tag in contact.utm.values())
    assert set(contact.utm) <= set(UTM_KEYS)


@PROPERTY
@given(ANY_TEXT)
def test_a_time_zone_is_a_zone_or_none(value):
    zone = valid_tz(value)
    assert zone is None or (storable(zone) and len(zone) <= 64)


# ---- JSON -------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@PROPERTY
@given(st.one_of(st.binary(max_size=400), ANY_TEXT, st.text(alphabet='[]{}"\\:,1 ', max_size=400)))
def test_the_json_reader_answers_a_value_or_json_error(data):
    try:
        value = loads(data)
    except JsonError:
        return
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # text all the way down


@PROPERTY
@given(JSON_VALUES)
def test_the_json_reader_reads_what_json_writes(value):
    assert loads(json.dumps(value)) == value


@PROPERTY
@given(st.integers(min_value=1, max_value=200))
def test_depth_is_bounded_exactly(depth):
    text = "[" * depth + "]" * depth
    if depth <= MAX_DEPTH:
        assert loads(text) is not None
    else:
        try:
            loads(text)
        except JsonError:
            return
        raise AssertionError("too deep, and read")


# ---- signed values ---------------------------------------------------------------------------


@PROPERTY
@given(ANY_TEXT, st.sampled_from(["thanks", "csrf-cookie", "visitor"]))
def test_anything_unsigned_is_none_never_an_error(value, purpose):
    assert unsign(SECRET, purpose, value) in (None, value.rpartition(".")[0])


@PROPERTY
@given(FORM_TEXT, st.sampled_from(["thanks", "csrf-cookie", "visitor"]), st.data())
def test_only_what_we_signed_unsigns(value, purpose, data):
    signed = sign(SECRET, purpose, value)
    assert unsign(SECRET, purpose, signed) == value
    assert unsign(SECRET + "x", purpose, signed) is None
    assert unsign(SECRET, purpose + "x", signed) is None
    position = data.draw(st.integers(min_value=0, max_value=len(signed) - 1))
    replacement = data.draw(st.characters())
    assume(signed[position] != replacement)
    tampered = signed[:position] + replacement + signed[position + 1 :]
    assert unsign(SECRET, purpose, tampered) in (None, value)
    if position > len(value):  # inside the signature: never valid
        assert unsign(SECRET, purpose, tampered) is None


# ---- the web app: 4xx for anything, never a 500 -------------------------------------------------

FORM_ANSWERS = {303, 400, 403, 413, 422}


async def web_client(aiohttp_client: Any, settings: Any, clock: Any, hub: Any) -> Any:
    return await make_client(
        aiohttp_client,
        settings,
        clock,
        hub,
        form_rate_limit="0",
        ingest_secrets={"tilda": "t" * 24},
    )


@APP_PROPERTY
@given(
    fields=st.dictionaries(
        st.one_of(
            st.sampled_from(["name", "phone", "email", "consent", "tz", *UTM_KEYS]), FORM_TEXT
        ),
        st.one_of(FORM_TEXT, BROWSER_MIXED),
        max_size=8,
    )
)
async def test_any_form_fields_get_an_answer_not_a_500(
    aiohttp_client, settings, clock, hub, fields
):
    client = await web_client(aiohttp_client, settings, clock, hub)
    token = await open_form(client)
    body = urlencode({**fields, "csrf_token": token}).encode()
    response = await client.post(
        "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    assert response.status in FORM_ANSWERS, await response.text()
    await client.close()


@APP_PROPERTY
@given(
    body=st.binary(max_size=2000),
    ctype=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", ""]
    ),
)
async def test_any_form_body_gets_an_answer_not_a_500(
    aiohttp_client, settings, clock, hub, body, ctype
):
    client = await web_client(aiohttp_client, settings, clock, hub)
    token = await open_form(client)
    data = body + b"&csrf_token=" + quote(token).encode()
    headers = {"Content-Type": ctype} if ctype else {}
    response = await client.post("/", data=data, headers=headers, allow_redirects=False)
    assert response.status in FORM_ANSWERS | {415}, await response.text()
    await client.close()


@APP_PROPERTY
@given(
    body=st.one_of(
        st.binary(max_size=2000),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["name", "phone", "email", "ref", "tz", "webinar_id"]), st.text()
            ),
            JSON_VALUES,
            max_size=8,
        ).map(lambda d: json.dumps({"source": "tilda", **d}).encode()),
    )
)
async def test_any_webhook_body_gets_an_answer_not_a_500(
    aiohttp_client, settings, clock, hub, body
):
    client = await web_client(aiohttp_client, settings, clock, hub)
    response = await client.post(
        "/api/ingest",
        data=body,
        headers={"X-Ingest-Secret": "t" * 24, "Content-Type": "application/json"},
    )
    assert response.status in {200, 201, 400, 401, 413, 422}, await response.text()
    assert (await response.json())["ok"] is (response.status < 300)
    await client.close()


COOKIE_TEXT = st.text(  # what a client can put in a Cookie header: no controls, no ";"
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters=";"),
    max_size=120,
)


@APP_PROPERTY
@given(thanks=COOKIE_TEXT, csrf=COOKIE_TEXT, visitor=COOKIE_TEXT)
async def test_any_cookie_is_just_invalid(
    aiohttp_client, settings, clock, hub, thanks, csrf, visitor
):
    client = await web_client(aiohttp_client, settings, clock, hub)
    cookie = f"funnel_thanks={thanks}; funnel_csrf={csrf}; funnel_visitor={visitor}"
    headers = {"Cookie": cookie.encode("utf-8").decode("latin-1")}
    page = await client.get("/thanks", headers=headers, allow_redirects=False)
    assert page.status == 303
    form = await client.get("/", headers=headers)
    assert form.status == 200
    visit = await client.get("/r/pavel", headers=headers, allow_redirects=False)
    assert visit.status == 302
    await client.close()
