"""GraphQL for attachments: `attachFile` (a GraphQL multipart request: the file travels as an
`Upload` variable), `deleteAttachment`, and the `attachments` of accounts, orders, deals and
tickets (`files` of conversation messages, whose `attachments` are the channel's own links)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from server.attachments import service
from server.attachments.models import Attachment
from server.core.errors import ErrorCode, UserInputError
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.types import UserType, model_type
from server.i18n import _


@model_type(
    Attachment, name="Attachment", description="A file attached to an object (a photo, an invoice, a contract)."
)
class AttachmentType:
    name: str = strawberry.field(description="The file's name, made safe (no folders or special characters).")
    content_type: str = strawberry.field(
        description="What the file's bytes show it is (e.g. image/jpeg, application/pdf), whatever the uploader said."
    )
    created_at: datetime = strawberry.field(description="When it was attached.")

    @strawberry.field(description="Opaque ID (for `deleteAttachment`).")
    def id(self) -> strawberry.ID:
        return ids.encode("Attachment", self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Size in bytes.")
    def size(self) -> int:
        return self.size_bytes  # type: ignore[attr-defined]

    @strawberry.field(description="The member who attached it (null for an app or API key, or a removed member).")
    async def uploaded_by(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        user_id = self.uploaded_by_id  # type: ignore[attr-defined]
        return await load_member(info.context, user_id) if user_id else None

    @strawberry.field(
        description="A signed link to download the file, for a browser (no headers needed). It works for "
        "`ATTACHMENT_LINK_SECONDS` (5 minutes by default; see `urlExpiresAt`): ask again for a fresh one. "
        "Relative to the API's origin."
    )
    def url(self, info: Info) -> str:
        return _link(self, info)[0]

    @strawberry.field(description="When `url` stops working.")
    def url_expires_at(self, info: Info) -> datetime:
        return _link(self, info)[1]


def _link(attachment, info: Info) -> tuple[str, datetime]:
    """The link and its expiry, signed once per attachment per response (so they agree)."""
    found = getattr(attachment, "_signed_link", None)
    if found is None:
        found = attachment._signed_link = service.signed_path(info.context.settings, attachment)
    return found


def _loader(type_name: str):
    def factory(ctx):
        async def load(keys: list[UUID]):
            found = await service.of_objects(ctx.scope, type_name, keys)
            return [found.get(key, []) for key in keys]

        return load

    return factory


async def attachments_of(info: Info, type_name: str, object_id: UUID) -> list[AttachmentType]:
    """The files of one object, batched per request (one query per type, whatever the page)."""
    return await info.context.loader(("attachments", type_name), _loader(type_name)).load(object_id)


def attachments_field(type_name: str, description: str = "Files attached to it, oldest first."):
    """The `attachments` (or `files`) field of an object type."""

    async def resolve(root, info: Info) -> list[AttachmentType]:
        return await attachments_of(info, type_name, root.id)

    return strawberry.field(resolver=resolve, description=description)


@strawberry.input(description="A file to attach: send the request as a GraphQL multipart request.")
class AttachFileInput:
    object_id: strawberry.ID = strawberry.field(
        description="The account, order, deal, ticket or conversation message to attach it to."
    )
    file: Upload = strawberry.field(
        description="The file (multipart `map` entry `variables.input.file`). Its type is judged from its bytes."
    )


@strawberry.input(description="The attachment to delete.")
class DeleteAttachmentInput:
    id: strawberry.ID = strawberry.field(description="The attachment's ID.")


@strawberry.type(description="The file attached (or the reasons it was not).")
class AttachFilePayload:
    attachment: AttachmentType | None = None
    errors: list[UserError]


@strawberry.type(description="The attachment deleted (or the reasons it was not).")
class DeleteAttachmentPayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description="The deleted attachment's ID.")
    errors: list[UserError]


@strawberry.type
class AttachmentMutations:
    @strawberry.mutation(
        description="Attach a file to an account, order, deal, ticket or conversation message. Send it as a "
        "GraphQL multipart request with the header `Apollo-Require-Preflight: true`; files over "
        "`ATTACHMENT_MAX_BYTES` (TOO_LARGE) or of a type not accepted (UNSUPPORTED_TYPE) are refused."
    )
    async def attach_file(self, info: Info, input: AttachFileInput) -> AttachFilePayload:
        ctx = info.context

        async def act():
            if not hasattr(input.file, "read"):  # a text in the variables, not a part of the request
                raise UserInputError(
                    ErrorCode.INVALID,
                    _("Send the file as a part of a GraphQL multipart request, not as text."),
                    "file",
                )
            return {"attachment": await service.attach(ctx.scope, ctx.settings, input.object_id, input.file)}

        return await run_mutation(AttachFilePayload, act)

    @strawberry.mutation(description="Delete an attachment; its file is removed from storage.")
    async def delete_attachment(self, info: Info, input: DeleteAttachmentInput) -> DeleteAttachmentPayload:
        ctx = info.context

        async def act():
            deleted = await service.delete(ctx.scope, ctx.settings, input.id)
            return {"deleted_id": ids.encode("Attachment", deleted)}

        return await run_mutation(DeleteAttachmentPayload, act)
