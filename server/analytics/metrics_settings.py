"""The organization's analytics settings and acquisition costs: the only writer of both tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tortoise.transactions import in_transaction

from server.analytics.metrics_models import LTV_FORMULAS, AcquisitionCost, AnalyticsSettings
from server.audit import service as audit
from server.auth.scope import Scope
from server.core import outbox
from server.core.errors import ErrorCode, UserInputError
from server.core.money import check_currency, parse_amount
from server.core.serialize import diff, snapshot
from server.core.text import camel_case
from server.i18n import _

SETTING_FIELDS = (
    "lost_after_days",
    "ltv_formula",
    "gross_margin_percent",
    "lifetime_years",
    "discount_rate_percent",
    "npv_years",
)
SOURCE_MAX = 64


async def current(scope: Scope) -> AnalyticsSettings:
    """The stored settings, or the defaults (unsaved) when the organization has none yet.
    Whoever may read metrics may read the parameters they were computed with."""
    found = await AnalyticsSettings.get_or_none(organization_id=scope.organization_id)
    return found or AnalyticsSettings(organization_id=scope.organization_id)


def _check(values: dict) -> list[UserInputError]:
    problems = []

    def bad(field: str, message: str) -> None:
        problems.append(UserInputError(ErrorCode.INVALID, message, field))

    if "lost_after_days" in values and not 1 <= values["lost_after_days"] <= 3650:
        bad("lostAfterDays", _("Days without an order must be between 1 and 3650."))
    if "ltv_formula" in values and values["ltv_formula"] not in LTV_FORMULAS:
        bad("ltvFormula", _("Unknown LTV formula."))
    if "gross_margin_percent" in values and not 0 <= values["gross_margin_percent"] <= 100:
        bad("grossMarginPercent", _("Gross margin must be between 0 and 100 percent."))
    if "lifetime_years" in values and not 0 < values["lifetime_years"] <= 100:
        bad("lifetimeYears", _("Lifetime must be more than 0 and at most 100 years."))
    if "discount_rate_percent" in values and not 0 <= values["discount_rate_percent"] <= 100:
        bad("discountRatePercent", _("Discount rate must be between 0 and 100 percent."))
    if "npv_years" in values and not 1 <= values["npv_years"] <= 50:
        bad("npvYears", _("Years of discounted revenue must be between 1 and 50."))
    for name in ("gross_margin_percent", "lifetime_years", "discount_rate_percent"):
        value = values.get(name)
        if isinstance(value, Decimal) and value.as_tuple().exponent < -2:  # type: ignore[operator]
            bad(camel_case(name), _("At most 2 decimal places."))
    return problems


async def update_settings(scope: Scope, values: dict) -> AnalyticsSettings:
    """Change some settings (owners and admins). Raises every problem at once; writes nothing then."""
    scope.require("settings:write")
    problems = _check(values)
    if problems:
        raise ProblemList(problems)
    async with in_transaction():
        row = await scope.queryset(AnalyticsSettings, "write").select_for_update().get_or_none()
        if row is None:
            row = await AnalyticsSettings.create(organization_id=scope.organization_id)
        before = snapshot(row, list(SETTING_FIELDS))
        for name, value in values.items():
            setattr(row, name, value)
        await row.save()
        changes = diff(before, snapshot(row, list(SETTING_FIELDS)))
        if changes:
            await audit.record(scope, "analytics_settings.update", row, changes)
            await outbox.emit(scope.organization_id, "analytics_settings.updated", {"changes": changes})
    return row


def parse_month(value: str, field: str = "month") -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise UserInputError(ErrorCode.INVALID, _("A month looks like 2026-01."), field) from exc


async def set_acquisition_cost(
    scope: Scope, source: str, month: str, amount: object, currency: str | None
) -> AcquisitionCost:
    """What was spent to win customers from ``source`` in ``month`` (replaces an earlier entry
    of the same source, month and currency; an amount of 0 keeps a zero entry)."""
    scope.require("settings:write")
    problems = []
    source = (source or "").strip()
    if not source or len(source) > SOURCE_MAX:
        problems.append(
            UserInputError(ErrorCode.INVALID, _("Name the source in 1 to %(n)s characters.", n=SOURCE_MAX), "source")
        )
    for parse in (
        lambda: parse_month(month),
        lambda: parse_amount(amount, "amount.amount"),
        lambda: check_currency(currency or scope.organization.currency, "amount.currency"),
    ):
        try:
            parse()
        except UserInputError as exc:
            problems.append(exc)
    if problems:
        raise ProblemList(problems)
    first_day = parse_month(month)
    value = parse_amount(amount, "amount.amount")
    code = check_currency(currency or scope.organization.currency, "amount.currency")
    async with in_transaction():
        row = await (
            scope.queryset(AcquisitionCost, "write")
            .select_for_update()
            .get_or_none(source=source, month=first_day, currency=code)
        )
        before = None if row is None else str(row.amount)
        if row is None:
            row = await AcquisitionCost.create(
                organization_id=scope.organization_id, source=source, month=first_day, currency=code, amount=value
            )
        else:
            row.amount = value
            await row.save(update_fields=["amount", "updated_at"])
        await audit.record(
            scope,
            "acquisition_cost.set",
            row,
            {"source": [source, source], "month": [month, month], "amount": [before, f"{value} {code}"]},
        )
        await outbox.emit(
            scope.organization_id,
            "acquisition_cost.set",
            {"source": source, "month": first_day.isoformat(), "amount": str(value), "currency": code},
        )
    return row


class ProblemList(Exception):
    """Several user errors found at once (the payload lists them all)."""

    def __init__(self, problems: list[UserInputError]):
        super().__init__(problems[0].message)
        self.problems = problems
