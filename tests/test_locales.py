"""The catalogues are complete: every text the code shows exists in Russian and English."""

from __future__ import annotations

import pytest

from locales import LOCALES, load_translations, negotiate
from locales.extract import catalogue, used_msgids

USED = used_msgids()


def test_extraction_finds_texts_in_code_templates_and_f_strings(tmp_path):
    where = set(USED.values())
    assert any(w.startswith("core/contact.py") for w in where)
    assert any(w.startswith("web/templates/") for w in where)
    assert any(
        w.startswith("web/") and w.endswith(tuple(f".py:{n}" for n in range(999))) for w in where
    )
    assert "Please enter your phone number." in USED
    module = tmp_path / "web" / "m.py"
    module.parent.mkdir()
    module.write_text("x = f\"{t(N_('In an f-string'))}: {i18n.gettext('Method')}\"\n")
    assert set(used_msgids(tmp_path)) == {"In an f-string", "Method"}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_msgid_in_use_is_translated(locale):
    known = catalogue(locale)
    missing = {msgid: where for msgid, where in USED.items() if not known.get(msgid)}
    assert not missing, f"{locale}: add to locales/{locale}/LC_MESSAGES/messages.po: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_catalogue_carries_texts_nobody_uses(locale):
    unused = set(catalogue(locale)) - set(USED)
    assert not unused, f"{locale}: remove from messages.po (or mark the text with N_): {unused}"


def test_translations_are_compiled_in_memory():
    translations = load_translations()
    assert set(translations) == set(LOCALES)
    assert translations["ru"].gettext("Register") == "Зарегистрироваться"
    assert translations["en"].gettext("Register") == "Register"
    assert translations["ru"].ngettext("x", "xs", 5) == "xs"  # unknown: falls back to English


def test_placeholders_survive_translation():
    # Jinja's newstyle gettext formats every string with %: a stray % would break a page.
    for locale in LOCALES:
        for msgid, text in catalogue(locale).items():
            assert text.count("%") == msgid.count("%"), (locale, msgid)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "ru"),
        ("en", "en"),
        ("en-US,en;q=0.9,ru;q=0.8", "en"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("fr;q=1, ru;q=0.2, en;q=0.3", "en"),
        ("en;q=0", "ru"),
        ("en;q=abc, ru;q=0.5", "ru"),
        ("*", "ru"),
    ],
)
def test_accept_language(header, expected):
    assert negotiate(header, LOCALES, "ru") == expected


def test_aiogram_i18n_can_use_the_same_catalogues():
    from aiogram.utils.i18n import I18n

    from locales import LOCALES_DIR

    class InMemoryI18n(I18n):
        def find_locales(self):
            return load_translations(self.path)

    i18n = InMemoryI18n(path=LOCALES_DIR, default_locale="ru", domain="messages")
    assert set(i18n.available_locales) == set(LOCALES)
    assert i18n.gettext("Register", locale="ru") == "Зарегистрироваться"
