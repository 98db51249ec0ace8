"""`POST /api/ingest`: contacts from external landing-page builders (Tilda, LPgenerator…).

Server to server: authenticated per source by `X-Ingest-Secret` (INGEST_SECRETS), so no
CSRF token, no cookies and no per-address limit. Answers are JSON, messages in English
(the msgids), meant for whoever wires the integration up.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import replace

from aiohttp import web

from core import metrics
from core.contact import Contact, ContactError, normalise
from core.ingest import core_ingest_event
from core.webinars import find_webinar
from locales import N_
from models import WebinarStatus
from web import keys
from web.bodies import (
    FORM_TYPES,
    UnsupportedBody,
    is_checked,
    raw_contact,
    read_form,
    read_json_object,
    text_fields,
)

SECRET_HEADER = "X-Ingest-Secret"  # noqa: S105 (a header name, not a secret)


class NotAuthorised(web.HTTPUnauthorized):
    explanation = N_("The X-Ingest-Secret header is missing or does not match the source.")

    def __init__(self) -> None:
        # A 401 must name how to authenticate (RFC 9110): here, our own header.
        super().__init__(headers={"WWW-Authenticate": SECRET_HEADER})


async def ingest(request: web.Request) -> web.Response:
    # The secret first: nobody without one gets a byte of their body parsed.
    sources = _sources_of(request)
    if not sources:
        raise NotAuthorised()
    fields = await _read_fields(request)
    if fields.get("source", "").strip().lower() not in sources:
        raise NotAuthorised()
    # A builder collects consent on its own page; a `consent` it sends must be truthy.
    consent = "consent" not in fields or is_checked(fields["consent"])
    raw = raw_contact(fields, source=fields.get("source", ""), consent=consent)
    app = request.app
    errors: dict[str, str] = {}
    try:
        contact: Contact | None = normalise(
            raw, region=app[keys.SETTINGS].phone_region, require_phone=False
        )
    except ContactError as exc:
        contact, errors = None, dict(exc.errors)
    webinar_id, problem = await _webinar(fields.get("webinar") or fields.get("webinar_id") or "")
    if problem:
        errors["webinar"] = problem
    if contact is None or errors:
        metrics.INGESTS.labels(raw.source or "?", "invalid").inc()
        return _json({"ok": False, "errors": errors}, status=422)
    contact = replace(contact, webinar_id=webinar_id)
    result = await core_ingest_event(app[keys.HUB], app[keys.CLOCK], contact)
    body = {
        "ok": True,
        "lead_id": result.lead_id,
        "created": result.created,
        "start_link": app[keys.LINKS].start_link(result.start_token),
    }
    return _json(body, status=201 if result.created else 200)


async def _webinar(ref: str) -> tuple[str | None, str | None]:
    """The webinar a submission registers for (slug or id): (its id, or a problem)."""
    if not ref.strip():
        return None, None
    webinar = await find_webinar(ref) if len(ref) <= 64 else None
    if webinar is None:
        return None, N_("No webinar with this slug or id.")
    if WebinarStatus(webinar.status) not in (WebinarStatus.SCHEDULED, WebinarStatus.LIVE):
        return None, N_("Registration for this webinar is closed.")
    return webinar.webinar_id, None


async def _read_fields(request: web.Request) -> Mapping[str, str]:
    if request.content_type == "application/json":
        return text_fields(await read_json_object(request))
    if request.content_type in FORM_TYPES:
        form = await read_form(request)
        return {key: form[key] for key in form}  # the first of repeated fields
    raise UnsupportedBody()


def _sources_of(request: web.Request) -> set[str]:
    """The sources whose secret the request carries (the body then names one of them).

    Every secret is compared, in constant time, whatever matches: the timing tells
    nothing about which sources exist.
    """
    given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
    secrets = request.app[keys.SETTINGS].ingest_secrets
    return {s for s, secret in secrets.items() if hmac.compare_digest(given, secret.encode())}


def _json(body: object, *, status: int) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))
