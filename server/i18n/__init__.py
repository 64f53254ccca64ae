"""Translations of every text a person reads: gettext catalogs kept with Babel.

Translators work on ``server/i18n/locale/<lang>/LC_MESSAGES/messages.po``; the compiled
``.mo`` files next to them are what the server loads (docs/i18n.md says how to update both).

Code marks a text with ``_("...")`` (translated now, in the current language) or ``N_("...")``
(marked for extraction only, translated later with ``_()``), and says which language is current
with ``use_locale``: a request from ``Accept-Language``, a customer's page or message from the
organization's language.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import Translations

LOCALES = ("uk", "en")
DEFAULT_LOCALE = "uk"
CATALOG_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

# None: nobody chose a language in this context yet (a background job before it knows whose
# organization it works for); ``current_locale`` then gives the default.
_current: ContextVar[str | None] = ContextVar("crm_locale", default=None)


@cache
def translations(locale: str) -> Translations:
    return Translations.load(str(CATALOG_DIR), [locale], domain=DOMAIN)


def supported(locale: str | None, default: str = DEFAULT_LOCALE) -> str:
    """``locale`` if the CRM speaks it (``uk-UA`` counts as ``uk``), else ``default``."""
    if locale:
        language = locale.replace("-", "_").split("_", 1)[0].lower()
        if language in LOCALES:
            return language
    return default


def negotiate(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The best of ``LOCALES`` for an ``Accept-Language`` header, by its q-values."""
    if not accept_language:
        return default
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality, position, tag.strip()))
    for _q, _pos, tag in sorted(wanted):
        if tag == "*":
            return default
        try:
            language = Locale.parse(tag, sep="-").language
        except (ValueError, UnknownLocaleError):
            continue
        if language in LOCALES:
            return language
    return default


def current_locale() -> str:
    return _current.get() or DEFAULT_LOCALE


def chosen() -> bool:
    """Whether this context has a language of its own (a request, a websocket, ``use_locale``)."""
    return _current.get() is not None


def choose(user_locale: str | None, accept_language: str | None, organization_locale: str | None) -> str:
    """The language of a request once its caller is known, in this order:

    1. the person's own setting (``User.locale``): an explicit choice beats what a browser says;
    2. the request's ``Accept-Language``, when it names a language the CRM speaks;
    3. the organization's locale, the default its owner chose for everyone in it;
    4. Ukrainian.

    Apps and API keys have no person behind them: ``user_locale`` is None for them."""
    if user_locale in LOCALES:
        return user_locale
    return negotiate(accept_language, default=supported(organization_locale))


def set_locale(locale: str | None) -> str:
    """Make ``locale`` current for the rest of this task: a request whose caller was just
    resolved. ``LocaleMiddleware`` (or an enclosing ``use_locale``) restores the previous one."""
    _current.set(supported(locale))
    return current_locale()


@contextlib.contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    token = _current.set(supported(locale))
    try:
        yield current_locale()
    finally:
        _current.reset(token)


@contextlib.contextmanager
def undecided() -> Iterator[None]:
    """Forget the enclosing context's language: a job must not speak the language of whatever
    request or test happened to start the worker; it speaks its organization's."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, /, **params: object) -> str:
    """``message`` in the current language, with ``%(name)s`` placeholders filled from ``params``."""
    text = translations(current_locale()).ugettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, /, **params: object) -> str:
    text = translations(current_locale()).ungettext(singular, plural, n)
    return text % {"n": n, **params}


def gettext_in(locale: str, message: str, /, **params: object) -> str:
    """``message`` in ``locale`` whatever the current language is (a customer's message)."""
    with use_locale(locale):
        return gettext(message, **params)


def N_(message: str) -> str:
    return message


_ = gettext
