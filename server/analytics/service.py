"""Analytics settings and the RFM recompute (nightly and on demand), with group moves
written to the accounts' timelines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from server.activities.models import Activity
from server.analytics import figures as figures_service
from server.analytics.models import CustomerFigures, RfmSettings
from server.analytics.rfm import GROUPS, Move, score_organization
from server.audit import service as audit
from server.auth.scope import Scope
from server.core.errors import ErrorCode, UserInputError
from server.i18n import N_, _, gettext_in
from server.organizations.models import Organization

MIN_WINDOW_DAYS, MAX_WINDOW_DAYS = 7, 3650


async def settings_of(organization_id: UUID) -> RfmSettings:
    """The organization's settings; defaults until someone changes them."""
    found = await RfmSettings.get_or_none(organization_id=organization_id)
    return found or RfmSettings(organization_id=organization_id)


async def _stored_settings(organization_id: UUID) -> RfmSettings:
    await RfmSettings.bulk_create([RfmSettings(organization_id=organization_id)], ignore_conflicts=True)
    return await RfmSettings.get(organization_id=organization_id)


async def update_settings(scope: Scope, rfm_window_days: int | None) -> RfmSettings:
    scope.require("settings:write")
    if rfm_window_days is not None and not MIN_WINDOW_DAYS <= rfm_window_days <= MAX_WINDOW_DAYS:
        raise UserInputError(
            ErrorCode.INVALID,
            _("The RFM window is %(low)s to %(high)s days.", low=MIN_WINDOW_DAYS, high=MAX_WINDOW_DAYS),
            "rfmWindowDays",
        )
    async with in_transaction():
        stored = await _stored_settings(scope.organization_id)
        if rfm_window_days is not None and rfm_window_days != stored.rfm_window_days:
            await audit.record(
                scope, "analytics.settings", stored, {"rfm_window_days": [stored.rfm_window_days, rfm_window_days]}
            )
            stored.rfm_window_days = rfm_window_days
            await stored.save(update_fields=["rfm_window_days", "updated_at"])
    return stored


async def figures_for(scope: Scope, account_ids: list[UUID]) -> dict[UUID, CustomerFigures]:
    """The figures of the accounts the caller may read (for DataLoaders)."""
    rows = await scope.queryset(CustomerFigures).filter(account_id__in=account_ids)
    return {row.account_id: row for row in rows}


# -- RFM groups as read by the API and the report ------------------------------------


async def rfm_group_sizes(scope: Scope) -> dict[str, int]:
    """Customers (not deleted) in each RFM group, every group listed (0 when empty)."""
    rows = (
        await scope.queryset(CustomerFigures)
        .filter(rfm_group__isnull=False, account__deleted_at=None)
        .group_by("rfm_group")
        .annotate(n=Count("id"))
        .values("rfm_group", "n")
    )
    sizes = {row["rfm_group"]: row["n"] for row in rows}
    return {code: sizes.get(code, 0) for code in GROUPS}


async def rfm_moves(scope: Scope, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
    """(from group, to group) -> customers moved, from the timeline's ``rfm_group`` entries
    between the UTC instants ``start`` (included) and ``end`` (not)."""
    rows = (
        await scope.queryset(Activity)
        .filter(kind="rfm_group", occurred_at__gte=start, occurred_at__lt=end)
        .values_list("data", flat=True)
    )
    moves: dict[tuple[str, str], int] = {}
    for data in rows:
        key = (data.get("from"), data.get("to"))
        if key[0] in GROUPS and key[1] in GROUPS:
            moves[key] = moves.get(key, 0) + 1
    return moves


# -- RFM recompute ------------------------------------------------------------------


MOVE_TEXT = N_("Customer group changed: %(before)s → %(after)s")


def move_text(locale: str, move: Move) -> str:
    return gettext_in(
        locale,
        MOVE_TEXT,
        before=gettext_in(locale, GROUPS[move.before]),
        after=gettext_in(locale, GROUPS[move.after]),
    )


async def _recompute(scope: Scope, settings: RfmSettings, now: datetime) -> int:
    """Inside the caller's transaction: score, note the moves, stamp the settings."""
    organization = scope.organization
    scored, moves = await score_organization(organization.id, organization.currency, settings.rfm_window_days, now)
    # One timeline entry per move, as activities.log writes it, inserted in batches: a recompute
    # after a quiet month can move thousands of customers.
    subjects: dict[tuple[str, str], str] = {}
    occurred_at = datetime.now(UTC)
    entries = []
    for move in moves:
        key = (move.before, move.after)
        if key not in subjects:
            subjects[key] = move_text(organization.locale, move)[:300]
        entries.append(
            Activity(
                organization_id=organization.id,
                kind="rfm_group",
                account_id=move.account_id,
                actor_id=scope.user_id,
                subject=subjects[key],
                body="",
                data={"from": move.before, "to": move.after},
                occurred_at=occurred_at,
            )
        )
    if entries:
        await Activity.bulk_create(entries, batch_size=1000)
    await RfmSettings.filter(id=settings.id).update(rfm_computed_at=now, updated_at=now)
    return scored


async def recompute_rfm(scope: Scope, now: datetime | None = None) -> int:
    """On demand (owners and admins): recompute now; the number of customers scored."""
    scope.require("settings:write")
    now = now or datetime.now(UTC)
    async with in_transaction():
        settings = await _stored_settings(scope.organization_id)
        scored = await _recompute(scope, settings, now)
        await audit.record(scope, "analytics.rfm_recompute", settings, {"scored": [None, scored]})
    return scored


async def nightly_rfm(organization: Organization, day: date | None = None, now: datetime | None = None) -> int | None:
    """The organization's recompute for ``day`` (default today, UTC), unless it already ran
    that day or later: None then.

    The day is claimed with a conditional UPDATE in the recompute's transaction: of two workers
    doing it at once, the second waits for the first one's commit (PostgreSQL row lock; SQLite
    runs one writer at a time) and then finds the day taken. A failed run rolls its claim back."""
    now = now or datetime.now(UTC)
    today: date = day or now.astimezone(UTC).date()
    async with in_transaction():
        settings = await _stored_settings(organization.id)
        claimed = await RfmSettings.filter(Q(rfm_nightly_on=None) | Q(rfm_nightly_on__lt=today), id=settings.id).update(
            rfm_nightly_on=today
        )
        if not claimed:
            return None
        scope = Scope.for_app(organization, "analytics", "analytics")
        return await _recompute(scope, settings, now)


async def rebuild_figures(organization: Organization) -> int:
    """Every account's figures and scores from scratch (``crm analytics rebuild``)."""
    async with in_transaction():
        count = await figures_service.rebuild(organization)
        settings = await _stored_settings(organization.id)
        scope = Scope.for_app(organization, "analytics", "analytics")
        await _recompute(scope, settings, datetime.now(UTC))
    return count
