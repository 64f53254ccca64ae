"""Telephony for people at their desks: who is calling (a screen pop) and click-to-call.

Calls themselves arrive through the telephony plugins' webhooks (server/plugins/webhooks.py
``apply_call``): a ringing call is an outbox event ``call.ringing`` with the caller's number, an
ended one a ``call`` activity on the caller's account. The frontend shows a pop-up for a ringing
call with ``caller_lookup``; ``click_to_call`` asks the PBX to ring the employee and dial out.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tortoise.expressions import Q

from server.accounts import service as accounts
from server.accounts.models import Account, Contact
from server.activities.models import Activity
from server.auth.models import Membership
from server.auth.scope import Scope
from server.auth.throttle import ActionThrottle
from server.core import outbox
from server.core.errors import ErrorCode, UserInputError, not_found
from server.core.models import OutboxEvent
from server.core.phones import to_e164
from server.deals.models import Deal
from server.i18n import _
from server.orders.models import Order
from server.plugins import service as plugins
from server.plugins.manager import get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import PluginError
from server.tickets.models import Ticket

log = logging.getLogger("crm.telephony")

MAX_MATCHES = 5
CLOSED_ORDER_GROUPS = ("completed", "cancelled")
OPEN_TICKET_STATUSES = ("new", "open", "pending")


@dataclass
class CallerMatch:
    """One account with the caller's number and what a pop-up shows about it. Counts are None
    when the caller's role does not work with that kind of record."""

    account: Account
    primary_contact: Contact | None = None
    open_orders: int | None = None
    open_deals: int | None = None
    open_tickets: int | None = None
    last_activity: Activity | None = None


@dataclass
class CallerLookup:
    phone: str
    matches: list[CallerMatch] = field(default_factory=list)


async def caller_lookup(scope: Scope, phone: str) -> CallerLookup:
    """The caller's accounts (the caller may see), oldest first, with what a pop-up needs."""
    e164 = to_e164(phone, "phone")
    found = (await accounts.find_by_phone(scope, e164))[:MAX_MATCHES]
    result = CallerLookup(phone=e164)
    for account in found:
        match = CallerMatch(account=account)
        contacts = await scope.queryset(Contact).filter(account_id=account.id).order_by("created_at", "id")
        match.primary_contact = next(
            (c for c in contacts if e164 in (c.phones or [])), contacts[0] if contacts else None
        )
        if scope.can("orders:read"):
            match.open_orders = (
                await scope.queryset(Order)
                .filter(account_id=account.id)
                .exclude(status__group__in=CLOSED_ORDER_GROUPS)
                .count()
            )
        if scope.can("deals:read"):
            match.open_deals = await scope.queryset(Deal).filter(account_id=account.id, closed_at=None).count()
        if scope.can("tickets:read"):
            match.open_tickets = (
                await scope.queryset(Ticket).filter(account_id=account.id, status__in=OPEN_TICKET_STATUSES).count()
            )
        if scope.can("activities:read"):
            match.last_activity = (
                await scope.queryset(Activity)
                .filter(Q(account_id=account.id), ~Q(kind="task") | Q(done_at__not_isnull=True))
                .order_by("-occurred_at", "-id")
                .first()
            )
        result.matches.append(match)
    return result


async def _telephony_installation(scope: Scope, installation_id: UUID) -> PluginInstallation:
    # Members who make calls usually cannot read plugin settings (settings:read), so the
    # installation is looked up in the caller's organization only, never by id alone.
    installation = await PluginInstallation.get_or_none(id=installation_id, organization_id=scope.organization_id)
    if installation is None or not installation.enabled:
        raise not_found("Telephony installation", "installationId")
    if not get_manager().implements(installation.plugin, "crm_telephony_click_to_call"):
        raise UserInputError(
            ErrorCode.INVALID,
            _("The %(plugin)s plugin cannot place calls.", plugin=installation.plugin),
            "installationId",
        )
    return installation


async def _extension_to_ring(scope: Scope, asked: str | None) -> str:
    """The caller's own extension, or (owners and admins only) another member's.

    Read without the members:read permission on purpose (a sales rep places calls but may not
    list members), but only ever in the caller's organization."""
    own = (
        await Membership.filter(organization_id=scope.organization_id, user_id=scope.user_id, is_active=True)
        .first()
        .values_list("phone_extension", flat=True)
    )
    asked = (asked or "").strip() or None
    if asked is None or asked == own:
        if not own:
            raise UserInputError(
                ErrorCode.REQUIRED,
                _(
                    "You have no phone extension in this organization: ask an owner or admin to set yours "
                    "(updateMember phoneExtension)."
                ),
                "extension",
            )
        return own
    if not scope.can("members:update"):
        raise UserInputError(
            ErrorCode.FORBIDDEN,
            _("You can only call from your own extension (%(extension)s).", extension=own or _("none set")),
            "extension",
        )
    colleague = Membership.filter(organization_id=scope.organization_id, phone_extension=asked, is_active=True)
    if not await colleague.exists():
        raise UserInputError(
            ErrorCode.NOT_FOUND, _("No member of this organization has extension %(asked)s.", asked=asked), "extension"
        )
    return asked


async def click_to_call(
    scope: Scope,
    settings,
    installation_id: UUID,
    phone: str,
    extension: str | None = None,
    *,
    throttle: ActionThrottle | None = None,
) -> str:
    """Ring the caller's extension at the PBX (``_extension_to_ring``), then dial ``phone``;
    the provider's call id. The call's events come back through the plugin's webhook like any
    other call. ``throttle`` limits the calls one member places (CLICK_TO_CALL_PER_USER)."""
    scope.require("activities:create")
    if scope.user_id is None:
        raise UserInputError(
            ErrorCode.FORBIDDEN, _("Click-to-call rings a member's phone: only a signed-in member can place a call.")
        )
    e164 = to_e164(phone, "phone")
    installation = await _telephony_installation(scope, installation_id)
    extension = await _extension_to_ring(scope, extension)
    if throttle is not None:
        await throttle.take(str(scope.user_id), _("calls placed"))  # counted only once the call would go out
    try:
        call_id = await plugins.call(
            settings, installation, "crm_telephony_click_to_call", employee=extension, phone=e164
        )
    except PluginError as exc:
        raise UserInputError(ErrorCode.PROVIDER_ERROR, exc.message, "installationId") from None
    call_id = str(call_id or "")
    await outbox.emit(
        scope.organization_id,
        "call.requested",
        {
            "installation_id": installation.id,
            "plugin": installation.plugin,
            "call_id": call_id,
            "phone": e164,
            "extension": extension,
            "requested_by": str(scope.user_id) if scope.user_id else None,
            "request_id": uuid.uuid4().hex,
        },
    )
    log.info("click-to-call via %s installation %s: call %s", installation.plugin, installation.id, call_id)
    return call_id


# -- live calls, for screens that cannot hold a subscription open ------------------------------

LIVE_TOPICS = ("call.ringing", "call.answered", "call.ended")
# A call still "live" after this long lost its end (a PBX that never said): forget it.
LIVE_WINDOW = timedelta(minutes=30)
# Bounds for a poll every few seconds by every agent: the newest events read, the calls shown
# (each shown call costs a caller lookup).
LIVE_EVENTS_READ = 5000
MAX_LIVE_CALLS = 50


async def live_calls(scope: Scope, employee: str | None = None, *, now: datetime | None = None) -> list[dict]:
    """Calls ringing or answered now: the polling twin of the ``incomingCall`` subscription.

    Read from the call events the telephony plugins wrote to the outbox (kept for days), so it
    needs no table of its own and every API process answers the same: per call, the desks it
    rings (one entry per extension) until someone answers, then the answered entry, until it
    ends. Oldest first. ``employee`` keeps one desk's calls."""
    scope.require("accounts:read")
    since = (now or datetime.now(UTC)) - LIVE_WINDOW
    newest = (
        await OutboxEvent.filter(organization_id=scope.organization_id, topic__in=LIVE_TOPICS, created_at__gte=since)
        .order_by("-created_at", "-id")
        .limit(LIVE_EVENTS_READ)
        .only("topic", "payload")
    )
    rows = reversed(newest)
    live: dict[tuple[str, str], dict[str, dict]] = {}
    for row in rows:
        payload = row.payload
        call = (str(payload.get("installation_id")), str(payload.get("call_id")))
        if row.topic == "call.ended":
            live.pop(call, None)
        elif row.topic == "call.answered":
            live[call] = {str(payload.get("employee") or ""): payload}
        elif not any(p.get("state") == "answered" for p in live.get(call, {}).values()):
            live.setdefault(call, {})[str(payload.get("employee") or "")] = payload
    found = [p for desks in live.values() for p in desks.values()]
    return [p for p in found if employee is None or p.get("employee") == employee][-MAX_LIVE_CALLS:]
