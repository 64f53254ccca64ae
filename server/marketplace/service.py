"""Marketplace sync: orders in from marketplace plugins, our status changes back out.

Orders in (``sync_installation``; every few minutes ``schedule_marketplace_syncs`` queues one
``marketplace.sync_installation`` job per enabled marketplace installation):

1. Ask the plugin for orders changed since the installation's cursor
   (``crm_marketplace_fetch_orders``), batch after batch while it says ``has_more``.
2. Each order in its own transaction, through the domain services (audit entries, timeline
   and outbox events such as ``order.created`` follow): a new one finds its account by the
   buyer's phone in E.164 (or creates one) and becomes an order with its items; a known one
   follows the marketplace's status through the organization's allowed transitions (the
   shortest path when the marketplace skipped some). A problem with one order is recorded
   and the batch goes on.
3. The cursor is stored only after every order of the batch was handled, so a crash re-reads
   the batch; importing is idempotent on (organization, source, external id).

Status out (``push_status_change``, on ``order.status_changed``): for an order linked to a
marketplace installation, map our status (``crm_marketplace_status_from_crm``) and tell the
marketplace (``crm_marketplace_push_status``). One ``MarketplacePush`` per (order, event): a
rerun of the event pushes nothing twice. A refusal is recorded, written on the account's
timeline and not retried; a retryable failure is recorded and raised so the job is retried.
Changes that came from the marketplace itself are recorded as ``skipped`` and never echoed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import phonenumbers
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.accounts import service as accounts
from server.activities import service as activities
from server.audit import service as audit
from server.auth.scope import Scope
from server.catalog import service as catalog
from server.config import Settings
from server.core import outbox
from server.core.errors import ErrorCode, UserInputError
from server.core.models import OutboxEvent
from server.core.phones import try_e164
from server.i18n import N_, _, gettext_in
from server.jobs.per_installation import enqueue_per_installation
from server.jobs.registry import Event, job, on_events, periodic
from server.jobs.runner import event_of, retry_alone
from server.marketplace.models import MarketplaceOrderLink, MarketplacePush, MarketplaceSyncState
from server.orders import service as orders
from server.orders.models import Order, OrderStatus, OrderStatusTransition
from server.organizations.language import speaking_for
from server.organizations.models import Organization
from server.plugins import service as plugins
from server.plugins.manager import PluginManager, get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import MARKETPLACE, MarketplaceOrder, OrderBatch, PluginError

log = logging.getLogger("crm.marketplace")

SYNC_EVERY_SECONDS = 300
LEASE = timedelta(minutes=10)
MAX_BATCHES = 50  # per sync run; the rest waits for the next run
MAX_PATH = 8  # status steps to follow the marketplace
MAX_PROBLEMS = 50  # kept in the sync state


def system_scope(installation: PluginInstallation, organization: Organization) -> Scope:
    """The sync acts as ``app plugin:<name>``: accounts, orders and their timeline only."""
    return Scope.for_app(organization, f"plugin:{installation.plugin}", "marketplace-sync")


def _manager(manager: PluginManager | None) -> PluginManager:
    return manager or get_manager()


def is_marketplace(installation: PluginInstallation, manager: PluginManager | None = None) -> bool:
    plugin = _manager(manager).get(installation.plugin)
    return plugin is not None and MARKETPLACE in plugin.info.capabilities


# == orders in ====================================================================================


@dataclass
class SyncResult:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[dict] = field(default_factory=list)
    skipped: str | None = None  # why nothing ran (another worker holds the lease...)

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems": self.problems[:MAX_PROBLEMS],
            "skipped": self.skipped,
        }


async def _state(installation: PluginInstallation) -> MarketplaceSyncState:
    state = await MarketplaceSyncState.get_or_none(installation_id=installation.id)
    if state is None:
        try:
            state = await MarketplaceSyncState.create(
                organization_id=installation.organization_id,  # type: ignore[attr-defined]
                installation_id=installation.id,
            )
        except IntegrityError:  # another worker created it first
            state = await MarketplaceSyncState.get(installation_id=installation.id)
    return state


async def _take_lease(state: MarketplaceSyncState) -> bool:
    """Atomically claim the installation for this run (a conditional UPDATE)."""
    now = datetime.now(UTC)
    free = MarketplaceSyncState.filter(id=state.id).filter(locked_until__isnull=True)
    expired = MarketplaceSyncState.filter(id=state.id, locked_until__lt=now)
    values = {"locked_until": now + LEASE, "last_started_at": now}
    return bool(await free.update(**values) or await expired.update(**values))


def _e164(raw: str) -> str | None:
    digits = "".join(ch for ch in raw or "" if ch.isdigit())
    if raw and not raw.strip().startswith("+") and len(digits) == 12 and digits.startswith("380"):
        raw = "+" + digits  # Rozetka and Prom write 380XXXXXXXXX
    return try_e164(raw or "")


async def _account_for(scope: Scope, installation: PluginInstallation, order: MarketplaceOrder) -> UUID:
    phone = _e164(order.buyer_phone)
    if phone is not None:
        found = await accounts.find_by_phone(scope, phone)
        if found:
            return found[0].id
    if phone is None and not order.buyer_name:
        raise UserInputError(
            ErrorCode.INVALID, _("The order has neither a buyer name nor a phone number."), "buyerPhone"
        )
    name = order.buyer_name or phonenumbers.format_number(
        phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    account = await accounts.create_account(
        scope,
        {
            "name": name,
            "phones": [phone] if phone else [],
            "emails": [order.buyer_email] if order.buyer_email else [],
            "tags": [installation.plugin],
            "source": installation.plugin,
        },
    )
    return account.id


def _items(order: MarketplaceOrder) -> list[dict]:
    items = [
        {"sku": i.sku or "-", "title": i.title or "-", "quantity": i.quantity, "unit_price": i.unit_price}
        for i in order.items
        if i.quantity > 0
    ]
    gross = sum((Decimal(str(i["quantity"])) * i["unit_price"] for i in items), Decimal("0"))
    discount = (gross - order.total).quantize(Decimal("0.01"))
    if items and order.total > 0 and discount > 0:
        # An order-level discount (promo code, bonuses): on the last line, so our total is
        # what the buyer pays at the marketplace.
        last = items[-1]
        if discount <= Decimal(str(last["quantity"])) * last["unit_price"]:
            last["discount"] = discount
    if not items:
        items = [
            {
                "sku": order.external_id[:64],
                "title": f"Order {order.external_id}",
                "quantity": 1,
                "unit_price": order.total,
            }
        ]
    return items


async def _status_path(organization_id: UUID, from_id: UUID, target: OrderStatus) -> list[str] | None:
    """Allowed transitions from ``from_id`` to ``target`` (codes), walking the usual flow: the
    target itself when it is allowed next, else the next status in display order that can
    still reach it (new -> processing -> picking -> packed -> shipped, not via delayed)."""
    statuses = {s.id: s for s in await OrderStatus.filter(organization_id=organization_id)}
    edges: dict[UUID, list[UUID]] = {}
    reverse: dict[UUID, list[UUID]] = {}
    for t in await OrderStatusTransition.filter(organization_id=organization_id):
        edges.setdefault(t.from_status_id, []).append(t.to_status_id)  # type: ignore[attr-defined]
        reverse.setdefault(t.to_status_id, []).append(t.from_status_id)  # type: ignore[attr-defined]
    reaches = {target.id}  # statuses from which the target can be reached
    queue = deque([target.id])
    while queue:
        for prev in reverse.get(queue.popleft(), []):
            if prev not in reaches:
                reaches.add(prev)
                queue.append(prev)
    if from_id not in reaches:
        return None
    path: list[str] = []
    node, seen = from_id, {from_id}
    while node != target.id:
        options = [n for n in edges.get(node, []) if n in reaches and n not in seen and n in statuses]
        if not options or len(path) >= MAX_PATH:
            return None
        if target.id in options:
            node = target.id
        else:
            here = statuses[node].position
            forward = [n for n in options if statuses[n].position > here]
            node = min(forward or options, key=lambda n: (statuses[n].position, statuses[n].code))
        seen.add(node)
        path.append(statuses[node].code)
    return path


async def _follow_status(
    scope: Scope, installation: PluginInstallation, order: Order, code: str, marketplace_status: str
) -> Order:
    """Move the order to ``code`` along allowed transitions, marking each change as coming
    from the marketplace so the push handler does not send it back."""
    target = await OrderStatus.get_or_none(organization_id=scope.organization_id, code=code)
    if target is None:
        raise UserInputError(
            ErrorCode.NOT_FOUND,
            _("The status mapping names '%(code)s', which is not one of your order statuses.", code=code),
            "status",
        )
    if target.id == order.status_id:  # type: ignore[attr-defined]
        return order
    path = await _status_path(scope.organization_id, order.status_id, target)  # type: ignore[attr-defined]
    if path is None:
        current = await OrderStatus.get(id=order.status_id)  # type: ignore[attr-defined]
        raise UserInputError(
            ErrorCode.FORBIDDEN_TRANSITION,
            _(
                "%(plugin)s moved the order to '%(code)s', but no allowed transitions lead there from '%(current)s'; "
                "change it by hand.",
                plugin=installation.plugin,
                code=code,
                current=current.code,
            ),
            "status",
        )
    for step in path:
        since = datetime.now(UTC) - timedelta(seconds=1)
        order = await orders.change_status(
            scope, order.id, order.version, step, reason=f"{installation.plugin}: status {marketplace_status}"
        )
        await _mark_from_marketplace(scope, installation, order, step, marketplace_status, since)
    return order


async def _mark_from_marketplace(
    scope: Scope, installation: PluginInstallation, order: Order, code: str, marketplace_status: str, since: datetime
) -> None:
    """The ``order.status_changed`` event just written: record it as not to be pushed back."""
    events = await OutboxEvent.filter(
        organization_id=scope.organization_id, topic="order.status_changed", created_at__gte=since
    ).order_by("-created_at")
    for event in events:
        if event.payload.get("order_id") == str(order.id) and event.payload.get("to") == code:
            await MarketplacePush.create(
                organization_id=scope.organization_id,
                order_id=order.id,
                installation_id=installation.id,
                plugin=installation.plugin,
                event_id=event.id,
                crm_status=code,
                marketplace_status=marketplace_status,
                outcome="skipped",
                error=_("The change came from %(plugin)s.", plugin=installation.plugin),
            )
            return


async def import_order(
    scope: Scope, settings, installation: PluginInstallation, order: MarketplaceOrder, *, manager=None
) -> str:
    """Create or update one order (call inside a transaction). ``imported``, ``updated`` or
    ``unchanged``."""
    manager = _manager(manager)
    config = plugins.effective_config(manager.get(installation.plugin), installation.config)
    code = await manager.call(installation.plugin, "crm_marketplace_status_to_crm", config=config, status=order.status)
    link = await MarketplaceOrderLink.get_or_none(installation_id=installation.id, external_id=order.external_id)
    if link is None:
        existing = await Order.get_or_none(
            organization_id=scope.organization_id, source=installation.plugin, external_id=order.external_id
        )
        if existing is not None:  # imported by another installation of the same plugin
            raise UserInputError(
                ErrorCode.DUPLICATE,
                _(
                    "Order #%(number)s already holds %(plugin)s order %(external_id)s.",
                    number=existing.number,
                    plugin=installation.plugin,
                    external_id=order.external_id,
                ),
                "externalId",
            )
        delivery = order.delivery or {}
        items = _items(order)
        # Lines whose SKU is in the catalog become catalog lines (stock reserved, cost kept for
        # the margin), at the price the buyer paid on the marketplace.
        matched = await catalog.variants_by_sku(scope, [i["sku"] for i in items])
        for item in items:
            if item["sku"] in matched:
                item["variant_id"] = matched[item["sku"]]
        created = await orders.create_order(
            scope,
            {
                "account_id": await _account_for(scope, installation, order),
                "source": installation.plugin,
                "external_id": order.external_id,
                "currency": order.currency,
                "items": items,
                "comment": order.comment or None,
                "delivery_method": (delivery.get("method") or None) and str(delivery["method"])[:32],
                "recipient_name": delivery.get("recipient_name") or order.buyer_name or None,
                "recipient_phone": _e164(order.buyer_phone),
                "delivery_city": delivery.get("city") or None,
                "delivery_branch": delivery.get("branch") or None,
                "delivery_address": delivery.get("address") or None,
                "waybill_number": delivery.get("waybill_number") or None,
            },
        )
        await MarketplaceOrderLink.create(
            organization_id=scope.organization_id,
            order_id=created.id,
            installation_id=installation.id,
            external_id=order.external_id,
            external_status=order.status,
            external_changed_at=order.changed_at,
        )
        if code:
            await _follow_status(scope, installation, created, code, order.status)
        return "imported"

    if link.external_status == order.status and link.external_changed_at == order.changed_at:
        return "unchanged"
    status_changed = link.external_status != order.status
    link.external_status = order.status
    link.external_changed_at = order.changed_at
    await link.save(update_fields=["external_status", "external_changed_at", "updated_at"])
    current = await scope.queryset(Order, "update").get_or_none(id=link.order_id)  # type: ignore[attr-defined]
    if current is None:
        return "unchanged"  # deleted in the CRM on purpose: leave it deleted
    waybill = (order.delivery or {}).get("waybill_number") or None
    if waybill and waybill != current.waybill_number:
        current = await orders.update_order(scope, current.id, current.version, {"waybill_number": waybill})
    if status_changed and code:
        await _follow_status(scope, installation, current, code, order.status)
    return "updated"


async def _fetch(settings, installation: PluginInstallation, cursor: str | None, manager) -> OrderBatch:
    batch = await plugins.call(settings, installation, "crm_marketplace_fetch_orders", manager=manager, cursor=cursor)
    if not isinstance(batch, OrderBatch):
        raise PluginError(_("The %(plugin)s plugin returned no order batch.", plugin=installation.plugin))
    return batch


async def sync_installation(
    installation: PluginInstallation, *, settings: Settings | None = None, manager: PluginManager | None = None
) -> SyncResult:
    """Import what changed at the marketplace since the installation's cursor.

    A ``PluginError`` from fetching is raised (retryable ones let the job retry); orders
    already committed and the cursor of committed batches stay."""
    settings = settings or Settings()
    manager = _manager(manager)
    result = SyncResult()
    if not installation.enabled or not is_marketplace(installation, manager):
        result.skipped = "The installation is disabled or its plugin is not a marketplace."
        return result
    state = await _state(installation)
    if not await _take_lease(state):
        result.skipped = "Another sync of this installation is running."
        return result
    organization = await Organization.get(id=installation.organization_id)  # type: ignore[attr-defined]
    scope = system_scope(installation, organization)
    cursor = state.cursor
    error: PluginError | None = None
    try:
        for _ in range(MAX_BATCHES):
            batch = await _fetch(settings, installation, cursor, manager)
            for order in batch.orders:
                try:
                    async with in_transaction():
                        outcome = await import_order(scope, settings, installation, order, manager=manager)
                except (UserInputError, PluginError) as exc:
                    message = exc.message
                    result.problems.append({"external_id": order.external_id, "message": message})
                    log.warning("%s order %s not imported: %s", installation.plugin, order.external_id, message)
                    continue
                if outcome == "imported":
                    result.imported += 1
                elif outcome == "updated":
                    result.updated += 1
                else:
                    result.unchanged += 1
            cursor = batch.cursor
            await MarketplaceSyncState.filter(id=state.id).update(cursor=cursor, locked_until=datetime.now(UTC) + LEASE)
            if not batch.has_more:
                break
    except PluginError as exc:
        error = exc
        result.problems.append({"external_id": None, "message": exc.message})
    finally:
        await MarketplaceSyncState.filter(id=state.id).update(
            locked_until=None, last_finished_at=datetime.now(UTC), last_result=result.as_dict()
        )
    if error is not None:
        raise error
    return result


async def sync_status(scope: Scope, installation_id: UUID) -> MarketplaceSyncState | None:
    """The installation's sync state (cursor excluded from the API), or None before the first run."""
    installation = await scope.get(PluginInstallation, installation_id, field="installationId")
    return await scope.queryset(MarketplaceSyncState).get_or_none(installation_id=installation.id)


async def sync_now(scope: Scope, settings, installation_id: UUID, *, manager=None) -> SyncResult:
    """For the ``syncMarketplace`` mutation (owners and admins)."""
    scope.require("settings:write")
    installation = await scope.get(PluginInstallation, installation_id, "write", field="installationId")
    if not is_marketplace(installation, manager):
        raise UserInputError(
            ErrorCode.INVALID,
            _("The %(plugin)s plugin is not a marketplace.", plugin=installation.plugin),
            "installationId",
        )
    if not installation.enabled:
        raise UserInputError(ErrorCode.INVALID, _("The installation is disabled; enable it first."), "installationId")
    try:
        result = await sync_installation(installation, settings=settings, manager=manager)
    except PluginError as exc:
        code = ErrorCode.INVALID_CREDENTIALS if exc.code == "BAD_CREDENTIALS" else ErrorCode.INVALID
        raise UserInputError(code, exc.message, "installationId") from exc
    async with in_transaction():
        await audit.record(scope, "marketplace.sync", installation, {"result": [None, result.as_dict()]})
    return result


@periodic(seconds=SYNC_EVERY_SECONDS, name="marketplace.sync_orders")
async def schedule_marketplace_syncs(*, now: datetime | None = None, manager: PluginManager | None = None) -> int:
    """Queue one ``marketplace.sync_installation`` job per enabled marketplace installation
    (server/jobs/per_installation.py: one tenant's slow marketplace cannot hold up another's)."""
    manager = _manager(manager)
    installations = await PluginInstallation.filter(enabled=True).order_by("created_at")
    marketplaces = [i.id for i in installations if is_marketplace(i, manager)]
    queued = await enqueue_per_installation(
        "marketplace.sync_installation", marketplaces, every_seconds=SYNC_EVERY_SECONDS, now=now
    )
    return len(queued)


@job("marketplace.sync_installation")
async def sync_installation_job(installation_id: str, *, settings: Settings) -> dict:
    """One installation's sync. A retryable failure is raised so the job is tried again; a
    permanent one (a wrong password) is already in the sync status the admin sees."""
    installation = await PluginInstallation.get_or_none(id=installation_id)
    if installation is None:
        return {"skipped": "The installation was removed."}
    try:
        async with speaking_for(installation.organization_id):  # type: ignore[attr-defined]
            return (await sync_installation(installation, settings=settings)).as_dict()
    except PluginError as exc:
        if exc.retryable:
            raise
        return {"error": exc.message}


# == status out ======================================================================================


async def _record_refusal(push: MarketplacePush, order: Order, installation: PluginInstallation, exc) -> None:
    organization = await Organization.get(id=order.organization_id)  # type: ignore[attr-defined]
    scope = system_scope(installation, organization)
    async with in_transaction():
        push.outcome = "refused"
        push.error = exc.message
        push.error_code = (exc.code or "")[:64] or None
        await push.save()
        await activities.log(
            scope,
            "order",
            account_id=order.account_id,  # type: ignore[attr-defined]
            order_id=order.id,
            subject=gettext_in(
                scope.organization.locale,
                N_("Order #%(number)s: %(plugin)s refused status '%(status)s'"),
                number=order.number,
                plugin=installation.plugin,
                status=push.crm_status,
            ),
            body=exc.message,
            data={
                "marketplace": installation.plugin,
                "push_id": str(push.id),
                "outcome": "refused",
                "crm_status": push.crm_status,
                "marketplace_status": push.marketplace_status,
            },
        )
        await audit.record(
            scope, "marketplace.push_refused", push, {"outcome": ["pending", "refused"], "error": [None, exc.message]}
        )
        await outbox.emit(
            order.organization_id,  # type: ignore[attr-defined]
            "marketplace.push_refused",
            {"order_id": order.id, "push_id": push.id, "plugin": installation.plugin, "error": exc.message},
        )


PUSH_JOB = "marketplace.push_status"


def _order_of(event: Event) -> UUID | None:
    raw = event.payload.get("order_id")
    return UUID(str(raw)) if raw else None


@on_events("order.status_changed", name=PUSH_JOB)
async def push_status_changes(
    event: Event | None = None,
    events: list[Event] | None = None,
    *,
    settings: Settings | None = None,
    manager: PluginManager | None = None,
) -> int:
    """The relay's job: tell the marketplaces about a batch of status changes. Most orders are
    not a marketplace's: one query (the batch's marketplace links) sets those aside, whatever
    the batch's size. The others are pushed concurrently (at most ``PROVIDER_CONCURRENCY``
    at once), each as ``push_status_change`` does; one the marketplace cannot take now
    (a retryable error) is queued again on a job of its own, so only it is pushed again.
    Returns how many changes concerned marketplace orders."""
    settings = settings or Settings()
    batch = event_of(event, events)
    linked = set(
        await MarketplaceOrderLink.filter(
            organization_id__in=list({e.organization_id for e in batch}),
            order_id__in=list({str(e.payload.get("order_id")) for e in batch if e.payload.get("order_id")}),
        ).values_list("organization_id", "order_id")
    )
    mine = [e for e in batch if (e.organization_id, _order_of(e)) in linked]
    gate = asyncio.Semaphore(max(1, settings.provider_concurrency))

    async def one(e: Event) -> BaseException | None:
        async with gate, speaking_for(e.organization_id):  # a batch may hold several shops' events
            try:
                await push_status_change(e, settings=settings, manager=manager)
            except Exception as exc:
                return exc
            return None

    failures = await asyncio.gather(*(one(e) for e in mine))
    failed = [(e, exc) for e, exc in zip(mine, failures, strict=True) if exc is not None]
    if failed and len(batch) == 1:
        raise failed[0][1]  # the job itself is that change: it retries
    for e, exc in failed:
        log.warning("marketplace push of event %s failed, retried alone: %s", e.id, exc)
        await retry_alone(PUSH_JOB, e)
    return len(mine)


async def push_status_change(
    event: Event, *, settings: Settings | None = None, manager: PluginManager | None = None
) -> MarketplacePush | None:
    """Tell the marketplace an order's new status (see the module docstring)."""
    settings = settings or Settings()
    manager = _manager(manager)
    order_id = UUID(str(event.payload["order_id"]))
    link = await MarketplaceOrderLink.get_or_none(organization_id=event.organization_id, order_id=order_id)
    if link is None:
        return None  # not a marketplace order
    existing = await MarketplacePush.get_or_none(order_id=order_id, event_id=event.id)
    if existing is not None and existing.outcome in ("ok", "refused", "skipped"):
        return existing  # done before: a rerun pushes nothing
    installation = await PluginInstallation.get_or_none(id=link.installation_id)  # type: ignore[attr-defined]
    if installation is None or not is_marketplace(installation, manager):
        return None
    to_code = str(event.payload.get("to") or "")
    config = plugins.effective_config(manager.get(installation.plugin), installation.config)
    try:
        target = await manager.call(
            installation.plugin, "crm_marketplace_status_from_crm", config=config, status=to_code
        )
        already = await manager.call(
            installation.plugin, "crm_marketplace_status_to_crm", config=config, status=link.external_status
        )
    except PluginError as exc:  # a broken mapping: say so on the push
        target, already, mapping_error = None, None, exc
    else:
        mapping_error = None
    if mapping_error is None and (target is None or already == to_code or str(target) == link.external_status):
        return None  # nothing to tell, or the marketplace already has it
    order = await Order.get(id=order_id)
    push = existing
    if push is None:
        try:
            push = await MarketplacePush.create(
                organization_id=event.organization_id,
                order_id=order_id,
                installation_id=installation.id,
                plugin=installation.plugin,
                event_id=event.id,
                crm_status=to_code,
                marketplace_status=None if target is None else str(target),
            )
        except IntegrityError:  # a concurrent run of the same event claimed it
            push = await MarketplacePush.get(order_id=order_id, event_id=event.id)
            if push.outcome in ("ok", "refused", "skipped"):
                return push
    if mapping_error is not None:
        await _record_refusal(push, order, installation, mapping_error)
        return push
    if not installation.enabled:
        async with speaking_for(installation.organization_id):  # type: ignore[attr-defined]
            push.outcome, push.error = (
                "skipped",
                _("The %(plugin)s installation is disabled.", plugin=installation.plugin),
            )
        await push.save()
        return push
    push.attempts += 1
    push.last_attempt_at = datetime.now(UTC)
    await push.save(update_fields=["attempts", "last_attempt_at", "updated_at"])
    try:
        await plugins.call(
            settings,
            installation,
            "crm_marketplace_push_status",
            manager=manager,
            external_id=link.external_id,
            status=str(target),
            waybill_number=order.waybill_number,
        )
    except PluginError as exc:
        if exc.retryable:
            push.outcome, push.error, push.error_code = "failed", exc.message, (exc.code or "")[:64] or None
            await push.save()
            raise  # the job system tries again later
        await _record_refusal(push, order, installation, exc)
        return push
    organization = await Organization.get(id=event.organization_id)
    scope = system_scope(installation, organization)
    async with in_transaction():
        push.outcome, push.error, push.error_code = "ok", None, None
        await push.save()
        await MarketplaceOrderLink.filter(id=link.id).update(external_status=str(target))
        await audit.record(scope, "marketplace.push", push, {"marketplace_status": [link.external_status, str(target)]})
        await outbox.emit(
            event.organization_id,
            "marketplace.status_pushed",
            {"order_id": order.id, "push_id": push.id, "plugin": installation.plugin, "status": str(target)},
        )
    return push


async def pushes_for_order(scope: Scope, order_id: UUID) -> list[MarketplacePush]:
    return await scope.queryset(MarketplacePush).filter(order_id=order_id).order_by("created_at", "id")
