"""POST /api/ingest: the webhook for external landing-page builders."""

from __future__ import annotations

import pytest

from models import EventRecord, LeadEntry, LeadTouch
from tests.web_support import make_client

TILDA = "t" * 24
LPGEN = "l" * 24
LEAD = {"source": "tilda", "name": "Anna", "phone": "+7 916 765 43 21", "utm_source": "vk"}


@pytest.fixture
async def client(aiohttp_client, settings, clock, hub):
    return await make_client(
        aiohttp_client, settings, clock, hub, ingest_secrets={"tilda": TILDA, "lpgen": LPGEN}
    )


def auth(secret: str = TILDA) -> dict[str, str]:
    return {"X-Ingest-Secret": secret}


async def test_json_creates_a_lead_then_finds_it_again(client):
    response = await client.post("/api/ingest", json=LEAD, headers=auth())
    body = await response.json()
    assert response.status == 201
    assert body["ok"] is True
    assert body["created"] is True
    lead = await LeadEntry.get(id=body["lead_id"])
    assert lead.lead_source == "tilda"
    assert lead.lead_created_via == "core_ingest"
    assert lead.utm == {"utm_source": "vk"}
    touch = await LeadTouch.get(lead=lead)
    assert body["start_link"].endswith(f"/sandbox?start={touch.start_token}")
    assert "Set-Cookie" not in response.headers

    again = await client.post(
        "/api/ingest", json={**LEAD, "phone": "89167654321", "name": "Anna K."}, headers=auth()
    )
    body2 = await again.json()
    assert again.status == 200
    assert body2["created"] is False
    assert body2["lead_id"] == body["lead_id"]
    assert body2["start_link"] != body["start_link"]
    assert await EventRecord.filter(name="core_lead_created").count() == 1


async def test_form_urlencoded_and_email_only(client):
    data = {"source": "lpgen", "email": "Lead@Example.com", "consent": "on"}
    response = await client.post("/api/ingest", data=data, headers=auth(LPGEN))
    body = await response.json()
    assert response.status == 201
    lead = await LeadEntry.get(id=body["lead_id"])
    assert (lead.email, lead.phone, lead.lead_source) == ("lead@example.com", None, "lpgen")


async def test_json_numbers_and_booleans_are_read_as_text(client):
    data = {"source": "tilda", "phone": 79167654321, "consent": True, "tz": "Europe/Samara"}
    response = await client.post("/api/ingest", json=data, headers=auth())
    assert response.status == 201
    lead = await LeadEntry.get()
    assert (lead.phone, lead.tz) == ("+79167654321", "Europe/Samara")


@pytest.mark.parametrize(
    ("headers", "payload"),
    [
        ({}, LEAD),
        (auth("wrong-secret-wrong-secret"), LEAD),
        (auth(LPGEN), LEAD),  # lpgen's secret does not open tilda's door
        (auth(TILDA), {**LEAD, "source": "unknown"}),
        (auth(TILDA), {k: v for k, v in LEAD.items() if k != "source"}),
    ],
    ids=["missing", "wrong", "other-source", "unknown-source", "no-source"],
)
async def test_the_secret_must_match_the_source(client, headers, payload):
    response = await client.post("/api/ingest", json=payload, headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "X-Ingest-Secret"
    assert (await response.json())["ok"] is False
    assert await LeadEntry.all().count() == 0


async def test_no_secrets_configured_means_no_access(aiohttp_client, settings, clock, hub):
    client = await make_client(aiohttp_client, settings, clock, hub)
    response = await client.post("/api/ingest", json=LEAD, headers=auth())
    assert response.status == 401


async def test_other_content_types_get_415(client):
    response = await client.post(
        "/api/ingest", data="name=Anna", headers={**auth(), "Content-Type": "text/plain"}
    )
    assert response.status == 415
    assert (await response.json())["ok"] is False


async def test_bad_fields_get_422_with_every_error(client):
    payload = {"source": "tilda", "phone": "12", "email": "nope", "consent": False}
    response = await client.post("/api/ingest", json=payload, headers=auth())
    body = await response.json()
    assert response.status == 422
    assert body == {
        "ok": False,
        "errors": {
            "phone": "This does not look like a phone number.",
            "email": "This does not look like an e-mail address.",
            "consent": "Please agree to the processing of your data.",
        },
    }
    assert await EventRecord.all().count() == 0


async def test_a_phone_or_an_email_is_needed(client):
    response = await client.post(
        "/api/ingest", json={"source": "tilda", "name": "Anna"}, headers=auth()
    )
    assert response.status == 422
    assert "phone" in (await response.json())["errors"]


@pytest.mark.parametrize("body", [b'{"source": "tilda", "name": "\xff"}', b"[1, 2]", b"{not json"])
async def test_unreadable_json_gets_400(client, body):
    response = await client.post(
        "/api/ingest", data=body, headers={**auth(), "Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["ok"] is False


async def test_no_csrf_needed_and_the_form_limit_does_not_apply(
    aiohttp_client, settings, clock, hub
):
    client = await make_client(
        aiohttp_client,
        settings,
        clock,
        hub,
        ingest_secrets={"tilda": TILDA},
        form_rate_limit="1/min",
    )
    for i in range(3):
        payload = {**LEAD, "phone": f"+7 916 765 43 2{i}"}
        response = await client.post(
            "/api/ingest", json=payload, headers={**auth(), "Origin": "https://tilda.cc"}
        )
        assert response.status == 201
