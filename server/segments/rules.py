"""A segment's rules: validated into plain JSON (stored on the segment), and turned into
conditions on accounts. Every problem with the rules is reported at once.

Rules (all given ones must hold):

- ``rfm_groups``: in one of these RFM groups;
- ``order_count``, ``revenue`` (organization's currency), ``days_since_last_order``: ranges
  (``gte``/``lte``; ``eq`` too), ``last_order_at``: a time range (``gte``/``lte``);
- ``cities``: an address mentions one of these cities (case-insensitive);
- ``tags``: has one of these tags;
- ``custom_fields``: each of these custom fields equals the value (text, number or true/false);
- ``consent``: has (or has not) opted out of a messaging channel."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from tortoise import connections
from tortoise.expressions import Q, RawSQL, Subquery

from server.accounts.models import AccountIdentifier
from server.analytics import schema as figures
from server.analytics.rfm import GROUPS
from server.core.errors import ErrorCode, UserInputError, UserInputErrors
from server.graphql.filters import DateTimeFilter, DecimalFilter, IntFilter
from server.i18n import _
from server.notifications.models import ChannelConsent
from server.notifications.service import KNOWN_CHANNELS

MAX_VALUES = 100
CUSTOM_FIELD_KEY = re.compile(r"^[A-Za-z0-9_]{1,64}$")
RANGE_OPS = ("eq", "gte", "lte")


class _Errors:
    def __init__(self) -> None:
        self.found: list[UserInputError] = []

    def add(self, field: str, message: str, code: ErrorCode = ErrorCode.INVALID) -> None:
        self.found.append(UserInputError(code, message, f"rules.{field}"))


def _number(value, kind, field: str, errors: _Errors):
    try:
        number = kind(str(value))
    except (ValueError, InvalidOperation):
        errors.add(field, _("'%(value)s' is not a number.", value=value))
        return None
    if number < 0:
        errors.add(field, _("Must not be negative."))
        return None
    return number


def _range(raw: dict, kind, field: str, errors: _Errors) -> dict | None:
    out = {}
    for op in RANGE_OPS:
        if raw.get(op) is not None:
            number = _number(raw[op], kind, f"{field}.{op}", errors)
            if number is not None:
                out[op] = str(number) if kind is Decimal else number
    if "gte" in out and "lte" in out and kind(out["gte"]) > kind(out["lte"]):
        errors.add(field, _("The lower bound is above the upper bound."))
    return out or None


def _time_range(raw: dict, field: str, errors: _Errors) -> dict | None:
    out = {}
    for op in ("gte", "lte"):
        value = raw.get(op)
        if value is None:
            continue
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                errors.add(f"{field}.{op}", _("'%(value)s' is not a date and time.", value=raw[op]))
                continue
        if value.tzinfo is None:
            errors.add(f"{field}.{op}", _("Give a time zone, e.g. 2026-05-01T00:00:00+03:00."))
            continue
        out[op] = value.astimezone(UTC).isoformat()
    if "gte" in out and "lte" in out and out["gte"] > out["lte"]:
        errors.add(field, _("The start is after the end."))
    return out or None


def _texts(values: list, field: str, errors: _Errors, *, lower: bool = False) -> list[str] | None:
    if len(values) > MAX_VALUES:
        errors.add(field, _("At most %(count)s values.", count=MAX_VALUES))
        return None
    out = []
    for i, value in enumerate(values):
        text = str(value).strip()
        if not text or len(text) > 200:
            errors.add(f"{field}.{i}", _("Give 1 to 200 characters."))
            continue
        out.append(text.lower() if lower else text)
    return sorted(set(out)) or None


def clean_rules(raw: dict) -> dict:
    """Stored rules from the caller's (snake_case keys, plain JSON values); UserInputErrors
    with every problem at once."""
    errors = _Errors()
    rules: dict = {}
    if raw.get("rfm_groups"):
        unknown = [g for g in raw["rfm_groups"] if g not in GROUPS]
        if unknown:
            errors.add("rfmGroups", _("Unknown RFM group: %(groups)s.", groups=", ".join(unknown)))
        rules["rfm_groups"] = sorted(set(raw["rfm_groups"]) - set(unknown), key=list(GROUPS).index)
    for name, field, kind in (
        ("order_count", "orderCount", int),
        ("days_since_last_order", "daysSinceLastOrder", int),
        ("revenue", "revenue", Decimal),
    ):
        if raw.get(name):
            cleaned = _range(raw[name], kind, field, errors)
            if cleaned:
                rules[name] = cleaned
    if raw.get("last_order_at"):
        cleaned = _time_range(raw["last_order_at"], "lastOrderAt", errors)
        if cleaned:
            rules["last_order_at"] = cleaned
    if raw.get("cities"):
        rules["cities"] = _texts(raw["cities"], "cities", errors)
    if raw.get("tags"):
        rules["tags"] = _texts(raw["tags"], "tags", errors, lower=True)
    custom = raw.get("custom_fields")
    if custom:
        if not isinstance(custom, dict):
            errors.add("customFields", _("Give a JSON object of field names and values."))
        else:
            for key, value in custom.items():
                if not CUSTOM_FIELD_KEY.fullmatch(str(key)):
                    errors.add("customFields", _("'%(key)s' is not a custom field name (letters, digits, _).", key=key))
                elif not isinstance(value, str | int | float | bool) or value is None:
                    errors.add(
                        f"customFields.{key}", _("A custom field rule compares with text, a number or true/false.")
                    )
            rules["custom_fields"] = custom
    consent = raw.get("consent")
    if consent:
        if consent.get("channel") not in KNOWN_CHANNELS:
            errors.add(
                "consent.channel",
                _("Channel must be one of: %(channels)s.", channels=", ".join(KNOWN_CHANNELS)),
            )
        rules["consent"] = {"channel": consent.get("channel"), "opted_in": bool(consent.get("opted_in"))}
    if errors.found:
        raise UserInputErrors(errors.found)
    return {k: v for k, v in rules.items() if v}


# -- rules -> conditions on accounts -----------------------------------------------------------


def _postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def _custom_field_sql(key: str, postgres: bool) -> str:
    # ``key`` matched CUSTOM_FIELD_KEY (letters, digits, _): safe to put in the SQL text.
    if postgres:
        return f'"account"."custom_fields"->>\'{key}\''
    path = f'json_extract("account"."custom_fields", \'$.{key}\')'
    kind = f'json_type("account"."custom_fields", \'$.{key}\')'
    return f"CASE {kind} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST({path} AS TEXT) END"


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def apply_rules(qs, organization_id, rules: dict):
    """``qs`` (accounts with ``analytics.schema.with_figures``) narrowed to the segment."""
    parts: list[Q] = []
    if rules.get("rfm_groups"):
        parts.append(Q(figures__rfm_group__in=rules["rfm_groups"]))
    if rules.get("order_count"):
        parts.append(figures.order_count_q(IntFilter(**rules["order_count"])))
    if rules.get("days_since_last_order"):
        parts.append(figures.days_since_last_order_q(IntFilter(**rules["days_since_last_order"])))
    if rules.get("revenue"):
        parts.append(figures.revenue_q(DecimalFilter(**{k: Decimal(v) for k, v in rules["revenue"].items()})))
    if rules.get("last_order_at"):
        bounds = {k: datetime.fromisoformat(v) for k, v in rules["last_order_at"].items()}
        parts.append(figures.last_order_q(DateTimeFilter(**bounds)))
    if rules.get("tags"):
        tagged = AccountIdentifier.filter(organization_id=organization_id, kind="tag", value__in=rules["tags"])
        parts.append(Q(id__in=Subquery(tagged.values("account_id"))))
    if rules.get("cities"):
        qs = qs.annotate(segment_addresses=RawSQL('CAST("account"."addresses" AS TEXT)'))
        parts.append(Q(*[Q(segment_addresses__icontains=city) for city in rules["cities"]], join_type="OR"))
    postgres = _postgres()
    for i, (key, value) in enumerate(sorted((rules.get("custom_fields") or {}).items())):
        qs = qs.annotate(**{f"segment_custom_{i}": RawSQL(_custom_field_sql(key, postgres))})
        parts.append(Q(**{f"segment_custom_{i}": _as_text(value)}))
    consent = rules.get("consent")
    if consent:
        opted_out = ChannelConsent.filter(organization_id=organization_id, channel=consent["channel"], opted_in=False)
        ids = Subquery(opted_out.values("account_id"))
        parts.append(Q(id__not_in=ids) if consent["opted_in"] else Q(id__in=ids))
    return qs.filter(*parts)
