"""GraphiQL at ``/graphql`` in a browser, from files this package ships (no CDN), opening on a
tab that shows how to sign in and send the token.

The vendored files live in ``static/graphiql/`` (versions in its README.md) and are served
under ``/graphql/static/``; their names carry the version, so browsers cache them for a year."""

from __future__ import annotations

import html
import json
import re
import textwrap
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from server.config import Settings
from server.i18n import _, current_locale

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/graphql/static"
# Relative to the page (/graphql), so a reverse proxy may serve the API under a path prefix.
ASSETS = "graphql/static/graphiql/"
STYLESHEETS = ["graphiql-3.9.0.min.css"]
SCRIPTS = ["react-18.3.1.production.min.js", "react-dom-18.3.1.production.min.js", "graphiql-3.9.0.min.js"]
VERSIONED = re.compile(r"-\d+\.\d+\.\d+\.")  # graphiql-3.9.0.min.js
TOKEN_PLACEHOLDER = "PASTE-THE-TOKEN-HERE"  # noqa: S105 - the text a person replaces
# Our own scripts can run; GraphiQL sets inline styles and loads its fonts as data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class CachedStaticFiles(StaticFiles):
    """Versioned file names are immutable; anything else is revalidated (ETag) on each use."""

    def file_response(self, full_path, stat_result, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = VERSIONED.search(Path(full_path).name) is not None
        response.headers["cache-control"] = "public, max-age=31536000, immutable" if versioned else "no-cache"
        response.headers["x-content-type-options"] = "nosniff"
        return response


def static_files() -> StaticFiles:
    return CachedStaticFiles(directory=STATIC_DIR)


def _sign_in_tab(settings: Settings) -> str:
    if settings.demo:
        from server.demo import DEMO_PASSWORD
        from server.demo.seed import demo_email

        email, password = demo_email("owner"), DEMO_PASSWORD
    else:
        email, password = "you@example.com", _("your password")
    steps = [
        _("Sign in first:"),
        "1. " + _("Put your e-mail and password below and run this mutation (the ▶ button, or Ctrl-Enter)."),
        "2. "
        + _(
            "Copy the token from the result into the Headers editor below, in place of %(placeholder)s.",
            placeholder=TOKEN_PLACEHOLDER,
        ),
        "   " + _('If you belong to several organizations, add "X-Organization": "<slug>".'),
        "3. "
        + _(
            "Reload the schema (↻ on the left) for the docs and autocomplete, and write your queries "
            "in this tab: a new tab (+) starts without the token."
        ),
    ]
    # Short lines: the editor is half the window wide.
    lines = [
        line
        for step in steps
        for line in textwrap.wrap(step, width=56, subsequent_indent="   ", break_on_hyphens=False)
    ]
    comment = "\n".join(f"# {line}".rstrip() for line in lines)
    return (
        f"{comment}\n"
        "mutation SignIn {\n"
        "  login(input: {\n"
        f"    email: {json.dumps(email)}\n"
        f"    password: {json.dumps(password, ensure_ascii=False)}\n"
        "  }) {\n"
        "    token\n"
        "    errors { field code message }\n"
        "  }\n"
        "}\n"
    )


WHO_AM_I = """query WhoAmI {
  me {
    email
    role
    organization { name slug }
  }
}
"""


def config(settings: Settings) -> dict:
    headers = json.dumps({"Authorization": f"Bearer {TOKEN_PLACEHOLDER}"}, indent=2)
    return {
        "headers": headers,
        "tabs": [
            {"query": _sign_in_tab(settings), "headers": headers},
            {"query": WHO_AM_I, "headers": headers},
        ],
    }


def page(settings: Settings) -> HTMLResponse:
    # JSON inside <script>: "<" escaped so no text can close the element.
    data = json.dumps(config(settings), ensure_ascii=False).replace("<", "\\u003c")
    links = "\n".join(f'<link rel="stylesheet" href="{ASSETS}{name}">' for name in STYLESHEETS)
    scripts = "\n".join(f'<script src="{ASSETS}{name}"></script>' for name in SCRIPTS)
    title, loading = _("CRM API: GraphiQL"), _("Loading GraphiQL…")
    body = f"""<!doctype html>
<html lang="{html.escape(current_locale())}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
{links}
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">{html.escape(loading)}</div>
<script id="graphiql-config" type="application/json">{data}</script>
{scripts}
<script src="graphql/static/graphiql-start.js"></script>
</body>
</html>
"""
    return HTMLResponse(
        body,
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "cache-control": "no-cache",
            "x-content-type-options": "nosniff",
        },
    )
