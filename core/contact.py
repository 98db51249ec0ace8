"""Normalising what people type: names, phones (E.164), e-mails, time zones, UTM tags."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field

import phonenumbers

from core.visible import visible_line
from locales import N_
from models.leads import (
    EMAIL_LENGTH,
    NAME_LENGTH,
    REF_LENGTH,
    SOURCE_LENGTH,
    TZ_LENGTH,
    WEBINAR_ID_LENGTH,
)

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# Every limit on what comes from outside, in one place: the columns' widths
# (models/leads.py), RFC 5321's for e-mail, and our own where the column has none.
EMAIL_LOCAL_OCTETS = 64
EMAIL_DOMAIN_OCTETS = 255
PHONE_INPUT_LENGTH = 40  # what a person may type around 15 digits
UTM_LENGTH = 200  # each tag, in a JSON column
_EMAIL = re.compile(r"^[^@\s<>\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$")  # lengths: separately
_REF = re.compile(rf"^[A-Za-z0-9_-]{{1,{REF_LENGTH}}}$")
_SOURCE = re.compile(rf"^[a-z0-9_.-]{{1,{SOURCE_LENGTH}}}$")


@dataclass
class RawContact:
    """What arrived from the outside, as strings, before any checking."""

    source: str
    name: str = ""
    phone: str = ""
    email: str = ""
    consent: bool = True
    ref: str = ""
    tz: str = ""
    webinar_id: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    locale: str = ""  # the language of the page the person registered on


@dataclass(frozen=True)
class Contact:
    source: str
    name: str
    phone: str | None
    email: str | None
    ref: str | None
    tz: str | None
    webinar_id: str | None
    utm: dict[str, str]
    locale: str | None = None


class ContactError(ValueError):
    """Field name → message key (a gettext msgid), for showing next to each field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def normalise_phone(value: str, region: str) -> str | None:
    """E.164 (`+79161234567`), or None when it is not a possible phone number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(raw: RawContact, *, region: str, require_phone: bool) -> Contact:
    """Check and normalise; raise `ContactError` naming every bad field at once.

    Names and tags lose invisible characters (`core.visible`) before anything is checked,
    and nothing longer than its column passes: a field a person typed gets an error, a
    hidden one (a link's tags, the webinar) is cut or dropped.
    """
    errors: dict[str, str] = {}
    name = visible_line(raw.name)
    if require_phone and not name:
        errors["name"] = N_("Please enter your name.")
    elif len(name) > NAME_LENGTH:
        errors["name"] = N_("The name is too long.")

    phone = None
    if typed_phone := visible_line(raw.phone):
        if len(typed_phone) > PHONE_INPUT_LENGTH or (
            (phone := normalise_phone(typed_phone, region)) is None
        ):
            errors["phone"] = N_("This does not look like a phone number.")
    elif require_phone:
        errors["phone"] = N_("Please enter your phone number.")

    email = visible_line(raw.email).lower() or None
    if email and (error := email_error(email)):
        errors["email"] = error
    if not require_phone and not phone and not email and "phone" not in errors:
        errors["phone"] = N_("A phone number or an e-mail is needed.")

    if not raw.consent:
        errors["consent"] = N_("Please agree to the processing of your data.")

    source = raw.source.strip().lower()
    if not _SOURCE.match(source):
        errors["source"] = N_("Unknown source.")

    ref = raw.ref.strip() or None
    if ref is not None and not _REF.match(ref):
        ref = None  # a mangled link must not stop a person from registering
    if errors:
        raise ContactError(errors)
    webinar_id = visible_line(raw.webinar_id)
    return Contact(
        source=source,
        name=name,
        phone=phone,
        email=email,
        ref=ref,
        tz=valid_tz(raw.tz),
        webinar_id=webinar_id if 0 < len(webinar_id) <= WEBINAR_ID_LENGTH else None,
        utm={
            key: tag[:UTM_LENGTH]
            for key, value in raw.utm.items()
            if key in UTM_KEYS and (tag := visible_line(value))
        },
        locale=raw.locale if raw.locale in ("ru", "en") else None,
    )


def email_error(email: str) -> str | None:
    """Why `email` (lower-cased, cleaned) is not an address we can store, or None.

    RFC 5321's limits: a local part of at most 64 octets, a domain of at most 255, and
    the whole address at most 254 — which is also the column's width.
    """
    local, _, domain = email.rpartition("@")
    octets = len(email.encode())
    if octets > EMAIL_LENGTH or len(local.encode()) > EMAIL_LOCAL_OCTETS:
        return N_("The e-mail address is too long.")
    if len(domain.encode()) > EMAIL_DOMAIN_OCTETS or not _EMAIL.match(email):
        return N_("This does not look like an e-mail address.")
    return None


def valid_tz(value: str) -> str | None:
    """The browser's IANA zone, or None: a hidden field is nothing a person can fix."""
    value = value.strip()
    if not value or len(value) > TZ_LENGTH or ".." in value:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    return value


def telegram_phone(value: str) -> str | None:
    """The phone number of a Telegram contact (`Contact.phone_number`: the international
    number in digits, with or without a leading "+") as E.164, or None."""
    digits = value.strip().removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 15:
        return None
    return normalise_phone(f"+{digits}", "ZZ")
