"""Deals on configurable pipelines: the only writer of pipelines, stages and deals."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from tortoise.transactions import in_transaction

from server.accounts.models import Account, Contact
from server.activities import service as activities
from server.audit import service as audit
from server.auth.scope import Scope
from server.core import idempotency, outbox
from server.core.errors import ErrorCode, Problems, UserInputError, version_conflict
from server.core.money import check_currency, parse_amount
from server.core.serialize import diff, snapshot
from server.core.text import limited_text, one_of, required_text
from server.core.text import position as check_position
from server.core.versioning import update_versioned
from server.customfields import service as customfields
from server.deals.models import Deal, DealStageChange, Pipeline, Stage
from server.i18n import N_, _, gettext_in
from server.search import index as search_index

KINDS = ("open", "won", "lost")
DEAL_FIELDS = [
    "title",
    "account_id",
    "contact_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "currency",
    "expected_close_date",
    "owner_id",
    "source",
    "lost_reason",
    "tags",
]


# -- pipelines and stages (admins) ----------------------------------------------------


async def create_pipeline(
    scope: Scope, name: str, position: int = 0, is_default: bool = False, stages: list[dict] | None = None
) -> Pipeline:
    scope.require("pipelines:create")
    problems = Problems()
    with problems:
        name = required_text(name, "name", 200)
    with problems:
        check_position(position)
    for i, stage in enumerate(stages or []):  # every stage's problems too, before anything is written
        with problems:
            _check_new_stage(stage, f"stages.{i}")
    problems.raise_if_any()
    async with in_transaction():
        if is_default:
            await Pipeline.filter(organization_id=scope.organization_id).update(is_default=False)
        pipeline = await Pipeline.create(
            organization_id=scope.organization_id, name=name, position=position, is_default=is_default
        )
        created = []
        for i, stage in enumerate(stages or []):
            position = i if stage.get("position") is None else stage["position"]
            created.append(await _create_stage(scope, pipeline, {**stage, "position": position}, f"stages.{i}"))
        await audit.record(
            scope,
            "pipeline.create",
            pipeline,
            {
                "name": [None, name],
                "is_default": [None, is_default],
                "stages": [None, [f"{s.name} ({s.kind}, {s.probability}%)" for s in created]],
            },
        )
    return pipeline


async def update_pipeline(scope: Scope, pipeline_id: UUID, data: dict) -> Pipeline:
    async with in_transaction():
        pipeline = await scope.get(Pipeline, pipeline_id, "update", field="id")
        before = snapshot(pipeline, ["name", "position", "is_default"])
        if data.get("name") is not None:
            pipeline.name = required_text(data["name"], "name", 200)
        if data.get("position") is not None:
            pipeline.position = check_position(data["position"])
        if data.get("is_default") is True:
            await Pipeline.filter(organization_id=scope.organization_id).update(is_default=False)
            pipeline.is_default = True
        elif data.get("is_default") is False and pipeline.is_default:
            raise UserInputError(ErrorCode.CONFLICT, _("Make another pipeline the default instead."), "isDefault")
        await pipeline.save()
        changes = diff(before, snapshot(pipeline, ["name", "position", "is_default"]))
        if changes:
            await audit.record(scope, "pipeline.update", pipeline, changes)
    return pipeline


async def delete_pipeline(scope: Scope, pipeline_id: UUID) -> Pipeline:
    async with in_transaction():
        pipeline = await scope.get(Pipeline, pipeline_id, "delete", field="id")
        if await Deal.filter(pipeline_id=pipeline.id, deleted_at=None).exists():
            raise UserInputError(ErrorCode.CONFLICT, _("Deals are in this pipeline; move them first."), "id")
        # Deleted deals keep their pipeline, and every deal's stage history keeps its stages.
        if (
            await Deal.filter(pipeline_id=pipeline.id).exists()
            or await DealStageChange.filter(to_stage__pipeline_id=pipeline.id).exists()
        ):
            raise UserInputError(
                ErrorCode.CONFLICT, _("Deals have been in this pipeline and their history needs it; rename it."), "id"
            )
        if pipeline.is_default:
            raise UserInputError(ErrorCode.CONFLICT, _("Make another pipeline the default first."), "id")
        await audit.record(scope, "pipeline.delete", pipeline, {"name": [pipeline.name, None]})
        await pipeline.delete()
    return pipeline


def _clean_stage(data: dict, path: str = "") -> dict:
    prefix = f"{path}." if path else ""
    values: dict = {}
    problems = Problems()
    with problems:
        if data.get("name") is not None:
            values["name"] = required_text(data["name"], f"{prefix}name", 200)
    with problems:
        if data.get("position") is not None:
            values["position"] = check_position(data["position"], f"{prefix}position")
    if data.get("probability") is not None:
        if not 0 <= data["probability"] <= 100:
            problems.add(ErrorCode.INVALID, _("Probability is a percentage, 0 to 100."), f"{prefix}probability")
        values["probability"] = data["probability"]
    with problems:
        if data.get("kind") is not None:
            values["kind"] = one_of(data["kind"], KINDS, f"{prefix}kind")
    problems.raise_if_any()
    return values


def _check_new_stage(data: dict, path: str = "") -> dict:
    problems = Problems()
    values: dict = {}
    with problems:
        values = _clean_stage(data, path)
    if data.get("name") is None:
        problems.add(ErrorCode.REQUIRED, _("name is required."), f"{path}.name" if path else "name")
    problems.raise_if_any()
    return values


async def _create_stage(scope: Scope, pipeline: Pipeline, data: dict, path: str = "") -> Stage:
    values = _check_new_stage(data, path)
    return await Stage.create(organization_id=scope.organization_id, pipeline_id=pipeline.id, **values)


async def create_stage(scope: Scope, pipeline_id: UUID, data: dict) -> Stage:
    async with in_transaction():
        pipeline = await scope.get(Pipeline, pipeline_id, "create", field="pipelineId")
        if data.get("position") is None:
            last = await Stage.filter(pipeline_id=pipeline.id).order_by("-position").first()
            data = {**data, "position": last.position + 1 if last else 0}
        stage = await _create_stage(scope, pipeline, data)
        await audit.record(scope, "stage.create", stage, {"name": [None, stage.name], "kind": [None, stage.kind]})
    return stage


async def update_stage(scope: Scope, stage_id: UUID, data: dict) -> Stage:
    values = _clean_stage(data)
    async with in_transaction():
        stage = await scope.get(Stage, stage_id, "update", field="id")
        if values.get("kind", stage.kind) != stage.kind and await Deal.filter(stage_id=stage.id).exists():
            # Their closedAt and lostReason follow the kind: move the deals instead.
            raise UserInputError(ErrorCode.CONFLICT, _("Deals are in this stage; its kind cannot change."), "kind")
        before = snapshot(stage, list(values))
        for k, v in values.items():
            setattr(stage, k, v)
        await stage.save()
        changes = diff(before, snapshot(stage, list(values)))
        if changes:
            await audit.record(scope, "stage.update", stage, changes)
    return stage


async def delete_stage(scope: Scope, stage_id: UUID) -> Stage:
    async with in_transaction():
        stage = await scope.get(Stage, stage_id, "delete", field="id")
        if await Deal.filter(stage_id=stage.id, deleted_at=None).exists():
            raise UserInputError(ErrorCode.CONFLICT, _("Deals are in this stage; move them first."), "id")
        if await Deal.filter(stage_id=stage.id).exists() or await DealStageChange.filter(to_stage_id=stage.id).exists():
            raise UserInputError(ErrorCode.CONFLICT, _("Deals have been in this stage; rename it instead."), "id")
        await audit.record(scope, "stage.delete", stage, {"name": [stage.name, None]})
        await stage.delete()
    return stage


# -- deals ------------------------------------------------------------------------------


async def _check_owner(scope: Scope, owner_id: UUID | None) -> None:
    from server.auth.service import is_member

    if owner_id is not None and not await is_member(scope.organization_id, owner_id, "deals:read"):
        raise UserInputError(ErrorCode.NOT_FOUND, _("Owner is not a member who works on deals."), "ownerId")
    scope.check_owner(owner_id)


def _clean_deal(data: dict, problems: Problems) -> dict:
    """The values to store; every invalid field goes to ``problems``."""
    values: dict = {}
    with problems:
        if "title" in data:
            values["title"] = required_text(data["title"], "title", 300)
    with problems:
        if data.get("amount") is not None:
            values["amount"] = parse_amount(data["amount"], "amount")
    with problems:
        if data.get("currency") is not None:
            values["currency"] = check_currency(data["currency"])
    if "expected_close_date" in data:
        values["expected_close_date"] = data["expected_close_date"]
    with problems:
        if "source" in data:
            values["source"] = limited_text(data["source"], "source", 64) or None
    if "owner_id" in data:
        values["owner_id"] = data["owner_id"]
    if data.get("tags") is not None:
        values["tags"] = customfields.clean_tags(data["tags"], problems)
    return values


async def _contact_of(scope: Scope, contact_id: UUID | None, account_id: UUID) -> UUID | None:
    if contact_id is None:
        return None
    contact = await scope.get(Contact, contact_id, field="contactId")
    if contact.account_id != account_id:
        raise UserInputError(ErrorCode.INVALID, _("The contact belongs to another account."), "contactId")
    return contact.id


async def _default_stage(scope: Scope, pipeline_id: UUID | None) -> Stage:
    if pipeline_id is not None:
        pipeline = await scope.get(Pipeline, pipeline_id, field="pipelineId")
    else:
        pipeline = await scope.queryset(Pipeline).filter(is_default=True).first()
        if pipeline is None:
            raise UserInputError(ErrorCode.REQUIRED, _("The organization has no default pipeline."), "pipelineId")
    stage = await Stage.filter(pipeline_id=pipeline.id, kind="open").order_by("position", "id").first()
    if stage is None:
        raise UserInputError(ErrorCode.INVALID, _("The pipeline has no open stage."), "pipelineId")
    return stage


async def create_deal(
    scope: Scope, data: dict, idempotency_key: str | None = None, *, created_at: datetime | None = None
) -> Deal:
    """A deal in the given stage (or the pipeline's first open one). ``created_at``: an imported
    deal keeps the date it had in the system it comes from (docs/import-export.md)."""
    scope.require("deals:create")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    values = _clean_deal(data, problems)
    if "title" not in data:
        problems.add(ErrorCode.REQUIRED, _("title is required."), "title")
    values.setdefault("owner_id", scope.user_id)
    with problems:
        await _check_owner(scope, values["owner_id"])
    lost_reason = None
    with problems:
        lost_reason = limited_text(data.get("lost_reason"), "lostReason", 2000) or None
    typed = await customfields.clean(scope, "deal", data, problems, creating=True)
    problems.raise_if_any()

    async def create() -> Deal:
        account = await scope.get(Account, data.get("account_id"), field="accountId")
        contact_id = await _contact_of(scope, data.get("contact_id"), account.id)
        if data.get("stage_id") is not None:
            stage = await scope.get(Stage, data["stage_id"], field="stageId")
            if data.get("pipeline_id") is not None and stage.pipeline_id != data["pipeline_id"]:
                raise UserInputError(ErrorCode.INVALID, _("The stage belongs to another pipeline."), "stageId")
        else:
            stage = await _default_stage(scope, data.get("pipeline_id"))
        if stage.kind == "lost" and not lost_reason:
            raise UserInputError(ErrorCode.REQUIRED, _("Say why the deal was lost."), "lostReason")
        values.setdefault("currency", scope.organization.currency)
        deal = await Deal.create(
            organization_id=scope.organization_id,
            account_id=account.id,
            contact_id=contact_id,
            pipeline_id=stage.pipeline_id,
            stage_id=stage.id,
            lost_reason=lost_reason if stage.kind == "lost" else None,
            closed_at=None if stage.kind == "open" else (created_at or datetime.now(UTC)),
            **({"created_at": created_at} if created_at is not None else {}),
            **values,
        )
        await DealStageChange.create(
            organization_id=scope.organization_id, deal_id=deal.id, to_stage_id=stage.id, actor_id=scope.user_id
        )
        await customfields.sync_tags(deal, "deal")
        typed_changes = await customfields.save(typed, deal.id)
        await search_index.index(deal)
        await activities.log(
            scope,
            "deal",
            account_id=account.id,
            deal_id=deal.id,
            subject=gettext_in(scope.organization.locale, N_("Deal: %(title)s"), title=deal.title),
            data={"amount": str(deal.amount), "currency": deal.currency, "stage": stage.name},
        )
        await audit.record(
            scope,
            "deal.create",
            deal,
            {**{k: [None, v] for k, v in snapshot(deal, DEAL_FIELDS).items()}, **typed_changes},
        )
        await outbox.emit(scope.organization_id, "deal.created", {"deal_id": deal.id, "stage": stage.name})
        return deal

    return await idempotency.create_once(
        scope.organization_id, "createDeal", idempotency_key, create, lambda pk: scope.get(Deal, pk), request=data
    )


async def update_deal(scope: Scope, deal_id: UUID, version: int, data: dict) -> Deal:
    scope.require("deals:update")
    problems = Problems()
    values = _clean_deal(data, problems)
    if "owner_id" in values:
        with problems:
            await _check_owner(scope, values["owner_id"])
    typed = await customfields.clean(scope, "deal", data, problems, creating=False)
    problems.raise_if_any()
    async with in_transaction():
        deal = await scope.get(Deal, deal_id, "update", field="id")
        if "contact_id" in data:
            values["contact_id"] = await _contact_of(scope, data["contact_id"], deal.account_id)
        changes = await update_versioned(deal, version, values)
        if "tags" in changes:
            await customfields.sync_tags(deal, "deal")
        changes.update(await customfields.save(typed, deal.id))
        if "title" in changes:
            await search_index.index(deal)
        if changes:
            await audit.record(scope, "deal.update", deal, changes)
            await outbox.emit(scope.organization_id, "deal.updated", {"deal_id": deal.id, "fields": sorted(changes)})
    return deal


async def move_stage(scope: Scope, deal_id: UUID, version: int, stage_id: UUID, lost_reason: str | None) -> Deal:
    """Move a deal to a stage (of its pipeline or another). Lost needs a reason, won and lost
    close the deal, moving back to an open stage reopens it."""
    scope.require("deals:update")
    lost_reason = limited_text(lost_reason, "lostReason", 2000) or None
    async with in_transaction():
        deal = await scope.get(Deal, deal_id, "update", field="id")
        if deal.version != version:
            raise version_conflict()
        target = await scope.get(Stage, stage_id, field="stageId")
        current = await Stage.get(id=deal.stage_id)
        if target.id == current.id:
            raise UserInputError(ErrorCode.INVALID, _("The deal is already in this stage."), "stageId")
        if target.kind == "lost" and not lost_reason:
            raise UserInputError(ErrorCode.REQUIRED, _("Say why the deal was lost."), "lostReason")
        values = {
            "stage_id": target.id,
            "pipeline_id": target.pipeline_id,
            "lost_reason": lost_reason if target.kind == "lost" else None,
            "closed_at": None if target.kind == "open" else datetime.now(UTC),
        }
        changes = await update_versioned(deal, version, values)
        await DealStageChange.create(
            organization_id=scope.organization_id,
            deal_id=deal.id,
            from_stage_id=current.id,
            to_stage_id=target.id,
            actor_id=scope.user_id,
        )
        await activities.log(
            scope,
            "status_change",
            account_id=deal.account_id,
            deal_id=deal.id,
            subject=gettext_in(
                scope.organization.locale,
                N_("Deal %(title)s: %(before)s → %(after)s"),
                title=deal.title,
                before=current.name,
                after=target.name,
            ),
            body=lost_reason or "",
            data={"from": current.name, "to": target.name, "kind": target.kind},
        )
        await audit.record(scope, "deal.stage", deal, changes)
        await outbox.emit(
            scope.organization_id,
            "deal.stage_changed",
            {"deal_id": deal.id, "from": current.name, "to": target.name, "kind": target.kind},
        )
    return deal


async def delete_deal(scope: Scope, deal_id: UUID, version: int) -> Deal:
    async with in_transaction():
        deal = await scope.get(Deal, deal_id, "delete", field="id")
        changes = await update_versioned(deal, version, {"deleted_at": datetime.now(UTC)})
        await search_index.unindex(scope.organization_id, "deal", [deal.id])
        await audit.record(scope, "deal.delete", deal, changes)
        await outbox.emit(scope.organization_id, "deal.deleted", {"deal_id": deal.id})
    return deal
