"""GraphQL for imports: start one (or a dry run), follow its progress and problems, undo it
(docs/import-export.md)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from server.auth.masking import mask_text
from server.core.errors import ErrorCode, UserInputError
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.i18n import _
from server.imports import mapping as mappings
from server.imports import service
from server.imports.models import ImportBatch


@strawberry.enum(description="What a file holds.")
class ImportKind(Enum):
    ACCOUNTS = "accounts"
    ORDERS = "orders"
    DEALS = "deals"
    TICKETS = "tickets"


@strawberry.type(description="One problem of one row: the row stays out of the import, the others go on.")
class ImportProblem:
    row: int | None = strawberry.field(description="The row number as a spreadsheet shows it (the header is row 1).")
    field: str | None = strawberry.field(description="The field at fault, if any.")
    code: str = strawberry.field(description="INVALID, REQUIRED, DUPLICATE, FORBIDDEN... or KEPT on an undo.")
    message: str = strawberry.field(description="What is wrong, for people.")


@strawberry.type(name="ImportBatch", description="An import of one file, its progress and its outcome.")
class ImportBatchType:
    batch: strawberry.Private[ImportBatch]

    @strawberry.field(description="Global ID.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode("ImportBatch", self.batch.id))

    @strawberry.field(description="accounts, orders, deals or tickets.")
    def kind(self) -> ImportKind:
        return ImportKind(self.batch.kind)

    @strawberry.field(description="Where the file comes from: the preset's system (bitrix24, keycrm) or spreadsheet.")
    def system(self) -> str:
        return self.batch.system

    @strawberry.field(description="The uploaded file's name.")
    def file_name(self) -> str:
        return self.batch.file_name

    @strawberry.field(description="True: rows were checked and nothing was kept.")
    def dry_run(self) -> bool:
        return self.batch.dry_run

    @strawberry.field(description="queued, running, done, failed, undoing or undone.")
    def status(self) -> str:
        return self.batch.status

    @strawberry.field(description="Column header -> field, as used.")
    def mapping(self) -> JSON:
        return self.batch.mapping

    @strawberry.field(description="Data rows in the file (the header not counted).")
    def rows_total(self) -> int:
        return self.batch.rows_total

    @strawberry.field(description="Rows read so far: the progress.")
    def rows_done(self) -> int:
        return self.batch.rows_done

    @strawberry.field(description="Accounts or orders made (in a dry run: that would be made).")
    def created_count(self) -> int:
        return self.batch.created_count

    @strawberry.field(
        description="Accounts or orders already in the CRM (same source id, phone or e-mail): not made again."
    )
    def matched_count(self) -> int:
        return self.batch.matched_count

    @strawberry.field(description="Accounts or orders left out for their problems.")
    def failed_count(self) -> int:
        return self.batch.failed_count

    @strawberry.field(
        description="The problems, row by row (the first 1,000); phones and e-mails quoted in them are "
        "masked for callers without `pii:read`."
    )
    def problems(self, info: Info) -> list[ImportProblem]:
        masked = not info.context.scope.sees_pii("Account", "phones")
        return [
            ImportProblem(**{**p, "message": mask_text(p["message"]) if masked else p["message"]})
            for p in self.batch.problems
        ]

    @strawberry.field(description="Why the whole import stopped, if it did.")
    def error(self) -> str | None:
        return self.batch.error

    @strawberry.field(description="When it was started.")
    def created_at(self) -> datetime:
        return self.batch.created_at

    @strawberry.field(description="When it finished.")
    def finished_at(self) -> datetime | None:
        return self.batch.finished_at

    @strawberry.field(description="When it was undone.")
    def undone_at(self) -> datetime | None:
        return self.batch.undone_at


@strawberry.input(description="A file to import. Larger files (up to 20 MB): `crm import` or POST /imports.")
class StartImportInput:
    kind: ImportKind = strawberry.field(description="What the file holds.")
    file_name: str = strawberry.field(description="Its name, ending in .csv or .xlsx.")
    content_base64: str = strawberry.field(description="The file, base64-encoded (within the request size limit).")
    preset: str | None = strawberry.field(
        default=None, description="bitrix24 or keycrm: their export's columns are known (see importPresets)."
    )
    mapping: JSON | None = strawberry.field(
        default=None,
        description="Column header -> field (see importFields), on top of the preset; "
        "a column mapped to null is left out.",
    )
    dry_run: bool = strawberry.field(default=False, description="Check every row, keep nothing.")


@strawberry.type(description="The import started, or why not.")
class ImportPayload:
    batch: ImportBatchType | None = strawberry.field(
        default=None, description="The import: follow it with importBatch."
    )
    errors: list[UserError] = strawberry.field(description="Why nothing started (every problem of the file at once).")


@strawberry.type(description="The fields a column can go to, per kind.")
class ImportFields:
    kind: ImportKind
    fields: list[str] = strawberry.field(description="Field names for mapping.")


def decode(content_base64: str) -> bytes:
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise UserInputError(ErrorCode.INVALID, _("The file is not valid base64."), "contentBase64") from None


@strawberry.type
class ImportQueries:
    @strawberry.field(description="An import of your organization; null for another's.")
    async def import_batch(self, info: Info, id: strawberry.ID) -> ImportBatchType | None:
        batch = await service.find(info.context.scope, ids.decode(id, "ImportBatch")[1])
        return ImportBatchType(batch=batch) if batch else None

    @strawberry.field(description="Your organization's imports, newest first (at most 100).")
    async def import_batches(self, info: Info, first: int = 20) -> list[ImportBatchType]:
        return [ImportBatchType(batch=b) for b in await service.recent(info.context.scope, max(1, min(first, 100)))]

    @strawberry.field(description="Systems with a ready column mapping (their export's headers).")
    def import_presets(self) -> list[str]:
        return mappings.PRESET_NAMES

    @strawberry.field(description="The fields a column can be mapped to, per kind.")
    def import_fields(self) -> list[ImportFields]:
        return [ImportFields(kind=ImportKind(k), fields=list(f)) for k, f in mappings.FIELDS.items()]


@strawberry.type
class ImportMutations:
    @strawberry.mutation(
        description="Check a file and import it in the background (or only check it: dryRun). Rows go through the "
        "same checks as the API; a row's problems leave it out. Running the same file again changes nothing."
    )
    async def start_import(self, info: Info, input: StartImportInput) -> ImportPayload:
        async def act():
            batch = await service.start(
                info.context.scope,
                kind=input.kind.value,
                file_name=input.file_name,
                content=decode(input.content_base64),
                preset=input.preset,
                mapping=input.mapping,
                dry_run=input.dry_run,
            )
            return {"batch": ImportBatchType(batch=batch)}

        return await run_mutation(ImportPayload, act)

    @strawberry.mutation(
        description="Undo a finished import in the background: what it made is deleted, unless changed since "
        "(kept and listed in problems)."
    )
    async def undo_import(self, info: Info, id: strawberry.ID) -> ImportPayload:
        async def act():
            batch = await service.request_undo(info.context.scope, ids.decode(id, "ImportBatch")[1])
            return {"batch": ImportBatchType(batch=batch)}

        return await run_mutation(ImportPayload, act)
