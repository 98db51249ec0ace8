"""HMAC signatures with `SECRET_KEY` for the small values the web layer hands to browsers."""

from __future__ import annotations

import base64
import hashlib
import hmac


def mac(secret: str, purpose: str, value: str) -> str:
    """A URL- and cookie-safe HMAC-SHA256 of `value`, bound to `purpose`.

    The purpose keeps one signed thing (a CSRF nonce) from being replayed as another
    (a thank-you cookie).
    """
    digest = hmac.new(secret.encode(), f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: str, purpose: str, value: str) -> str:
    return f"{value}.{mac(secret, purpose, value)}"


def unsign(secret: str, purpose: str, signed: str) -> str | None:
    """The value inside `signed`, or None when it is not a value we signed for `purpose`.

    Whatever a client sends is only invalid, never an error: bytes are compared (the
    comparison of `str`s refuses non-ASCII), and a value that cannot be encoded (a lone
    surrogate a header decoder let through) cannot have been signed by us.
    """
    value, sep, signature = signed.rpartition(".")
    if not sep:
        return None
    try:
        given = signature.encode("ascii")
        expected = mac(secret, purpose, value).encode("ascii")
    except UnicodeEncodeError:
        return None
    return value if hmac.compare_digest(given, expected) else None
