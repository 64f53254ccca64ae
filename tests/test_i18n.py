"""The gettext catalogs: every marked text is translated into Ukrainian and English, the
compiled catalogs match their sources, and the language follows Accept-Language."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from server.i18n import CATALOG_DIR, LOCALES, gettext_in, negotiate, supported

ROOT = Path(__file__).resolve().parents[1]


def _marked_messages() -> set[str]:
    method_map = [("server/**.py", "python"), ("plugins/**.py", "python"), ("server/**/templates/**.html", "jinja2")]
    options = {"server/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "gettext_in": (2,)},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str):
    with open(CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def test_every_marked_text_is_translated_in_both_languages():
    marked = _marked_messages()
    for locale in LOCALES:
        catalog = _catalog(locale)
        untranslated = sorted(m for m in marked if m not in catalog or not catalog[m].string or catalog[m].fuzzy)
        assert not untranslated, f"{locale}: no translation for {untranslated[:10]} (docs/i18n.md)"


def _hashable(value):
    """A plural message's id and texts come as lists or tuples: compare them as tuples."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalogs_match_their_sources():
    for locale in LOCALES:
        source = {_hashable(m.id): _hashable(m.string) for m in _catalog(locale) if m.id and not m.fuzzy}
        with open(CATALOG_DIR / locale / "LC_MESSAGES" / "messages.mo", "rb") as f:
            compiled = {_hashable(m.id): _hashable(m.string) for m in read_mo(f) if m.id}
        assert compiled == source, f"{locale}: run 'pybabel compile -d server/i18n/locale' (docs/i18n.md)"


def test_language_from_accept_language():
    assert negotiate("en-GB,en;q=0.9,uk;q=0.8") == "en"
    assert negotiate("de-DE,uk;q=0.5,en;q=0.4") == "uk"
    assert negotiate("fr, de") == "uk"
    assert negotiate(None, default="en") == "en"
    assert negotiate("uk;q=0, en;q=0.1") == "en"
    assert supported("uk-UA") == "uk"
    assert supported("pl") == "uk"


def test_a_catalog_text_in_each_language():
    assert gettext_in("uk", "Page not found") == "Сторінку не знайдено"
    assert gettext_in("en", "Page not found") == "Page not found"


async def test_the_language_of_an_http_answer_follows_accept_language(http):
    assert (await http.get("/no-such-page")).json() == {"error": "Сторінку не знайдено"}
    english = await http.get("/no-such-page", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert english.status_code == 404
    assert english.json() == {"error": "Page not found"}
