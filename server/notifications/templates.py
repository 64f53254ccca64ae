"""Message templates: Jinja in a sandbox, so an organization's template can format the order
but never reach Python internals; a variable that is missing renders empty instead of failing."""

from __future__ import annotations

import functools

from jinja2 import Template, TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from server.core.errors import ErrorCode, UserInputError
from server.i18n import _

MAX_BODY = 2000

_env = SandboxedEnvironment(undefined=Undefined, autoescape=False, keep_trailing_newline=False)

# What templates can use (docs/notifications.md).
VARIABLES = (
    "customer_name",
    "order_number",
    "items",  # list of {title, quantity}
    "items_text",
    "total",
    "currency",
    "waybill",
    "tracking_link",
    "expected_delivery",
    "reason",
    "support_phone",
    "support_email",
    "shop_name",
    "survey_link",  # survey messages only (survey_nps, survey_support)
    "ticket_number",  # survey_support only
    "campaign_text",  # campaign_* only: the step's text (which knows customer_name, shop_name, offer_until)
    "opt_out_link",  # campaign_* only
    "offer_until",  # campaign_* only
    "receipt_link",  # fiscal_receipt only: the customer's page of the receipt
    "receipt_amount",  # fiscal_receipt only
    "receipt_currency",  # fiscal_receipt only
    "receipt_is_return",  # fiscal_receipt only: true for a refund's return receipt
)


def check(body: str, field: str = "body") -> str:
    """A template an organization saves: it must compile in the sandbox."""
    body = (body or "").strip()
    if not body:
        raise UserInputError(ErrorCode.REQUIRED, _("The template is empty."), field)
    if len(body) > MAX_BODY:
        raise UserInputError(
            ErrorCode.INVALID, _("The template is longer than %(max_body)s characters.", max_body=MAX_BODY), field
        )
    try:
        _env.from_string(body)
    except TemplateSyntaxError as exc:
        raise UserInputError(
            ErrorCode.INVALID,
            _("Template error on line %(lineno)s: %(message)s", lineno=exc.lineno, message=exc.message),
            field,
        ) from exc
    return body


@functools.lru_cache(maxsize=1024)
def _compiled(body: str) -> Template:
    # Compiling is most of a render's cost; a batch renders one template hundreds of times.
    return _env.from_string(body)


def render(body: str, context: dict) -> str:
    """The message text; a template that tries what the sandbox forbids renders an error note."""
    try:
        text = _compiled(body).render(**context)
    except SecurityError as exc:
        raise UserInputError(
            ErrorCode.INVALID, _("The template uses something not allowed: %(exc)s", exc=exc), "body"
        ) from exc
    return " ".join(text.split()) if "\n" not in text else text.strip()
