"""The page language and the Jinja2 environment that speaks it.

A page is in `?lang=ru|en` if given, else the best match of `Accept-Language`, else
`DEFAULT_LOCALE`. Templates call `_()` (Jinja2's i18n extension, newstyle); the
callables read the request's catalogue from the template context, so one environment
serves every language at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from gettext import GNUTranslations, NullTranslations
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from yarl import URL

from core.present import local
from locales import LOCALES, negotiate
from web import keys

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def request_lang(request: web.Request) -> str:
    """The language of the page answering `request` (worked out once per request)."""
    lang = request.get(keys.LANG)
    if lang is None:
        asked = request.query.get("lang", "")
        if asked in LOCALES:
            lang = asked
        else:
            default = request.app[keys.SETTINGS].default_locale
            lang = negotiate(request.headers.get("Accept-Language", ""), LOCALES, default)
        request[keys.LANG] = lang
    return lang


def translations_for(request: web.Request) -> NullTranslations:
    found: GNUTranslations | None = request.app[keys.TRANSLATIONS].get(request_lang(request))
    return found if found is not None else NullTranslations()


def gettext(request: web.Request, message: str) -> str:
    """`message` (a msgid) in the request's language, for texts built outside templates."""
    return translations_for(request).gettext(message)


@jinja2.pass_context
def _gettext(context: jinja2.runtime.Context, message: str) -> str:
    return str(context["translations"].gettext(message))


@jinja2.pass_context
def _ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return str(context["translations"].ngettext(singular, plural, n))


def setup_templates(app: web.Application) -> jinja2.Environment:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        extensions=["jinja2.ext.i18n"],
        autoescape=True,  # every value a visitor sent is escaped wherever it is shown
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        default_helpers=False,
    )
    env.policies["ext.i18n.trimmed"] = True
    # `asset("style.css")` → /static/style.css?v=<hash>: browsers never keep a stale copy.
    env.globals["asset"] = lambda name: str(app.router["static"].url_for(filename=name))
    env.globals["url"] = lambda name, **parts: str(app.router[name].url_for(**parts))
    env.globals["iso"] = iso_time
    env.globals["when"] = local_time
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    return env


def link_here(request: web.Request, **query: str) -> str:
    """A link to this page with `query` set, built from the path alone.

    Never from the request's URL as a whole: a request for `//evil.example/x` would give
    a scheme-relative link, which a browser follows to evil.example. One leading slash,
    and yarl percent-encodes what browsers would bend into one (a backslash, a tab).
    """
    path = "/" + request.path.lstrip("/")
    return str(URL.build(path=path, query=request.query).update_query(query))


def iso_time(timestamp: float) -> str:
    """For `<time datetime=…>`: the page's script shows it in the visitor's own zone."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def local_time(timestamp: float, tz: str) -> str:
    """What a page shows before its script runs: the time in the webinar's own zone."""
    return f"{local(timestamp, tz):%Y-%m-%d %H:%M} ({tz})"


def page_context(request: web.Request, context: dict[str, Any]) -> dict[str, Any]:
    """What every page gets besides its own values: language, catalogue, switch links."""
    lang = request_lang(request)
    return {
        "lang": lang,
        "translations": translations_for(request),
        "lang_links": [(code, link_here(request, lang=code), code == lang) for code in LOCALES],
        **context,
    }
