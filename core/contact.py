"""Normalising what people type: names, phones (E.164), e-mails, time zones, UTM tags."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field

import phonenumbers

from locales import N_

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}$")
_REF = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SOURCE = re.compile(r"^[a-z0-9_.-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


def _clean(value: str, limit: int) -> str:
    return _CONTROL.sub("", value).strip()[:limit]


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
    """Check and normalise; raise `ContactError` naming every bad field at once."""
    errors: dict[str, str] = {}
    name = _clean(raw.name, 200)
    if require_phone and not name:
        errors["name"] = N_("Please enter your name.")
    elif len(raw.name.strip()) > 200:
        errors["name"] = N_("The name is too long.")

    phone = None
    if raw.phone.strip():
        if len(raw.phone) > 40 or (phone := normalise_phone(raw.phone, region)) is None:
            errors["phone"] = N_("This does not look like a phone number.")
    elif require_phone:
        errors["phone"] = N_("Please enter your phone number.")

    email = raw.email.strip().lower() or None
    if email and not _EMAIL.match(email):
        errors["email"] = N_("This does not look like an e-mail address.")
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
    return Contact(
        source=source,
        name=name,
        phone=phone,
        email=email,
        ref=ref,
        tz=valid_tz(raw.tz),
        webinar_id=_clean(raw.webinar_id, 64) or None,
        utm={k: _clean(v, 200) for k, v in raw.utm.items() if k in UTM_KEYS and v.strip()},
        locale=raw.locale if raw.locale in ("ru", "en") else None,
    )


def valid_tz(value: str) -> str | None:
    """The browser's IANA zone, or None: a hidden field is nothing a person can fix."""
    value = value.strip()
    if not value or len(value) > 64 or ".." in value:
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
