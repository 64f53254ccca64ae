"""What the small public pages a customer opens share (an unsubscribe page, a tracked link that
no longer works): one Jinja environment per domain that also finds ``public_page.html``, the
page's head, style and language switch, with the gettext callables installed."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from server.i18n import gettext, ngettext

SHARED = Path(__file__).parent / "templates"


def environment(folder: Path) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(folder), FileSystemLoader(SHARED)]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(gettext=gettext, ngettext=ngettext, newstyle=True)
    return env
