"""``GET /exports/<id>/download``: a finished export's file, streamed from the database.

Two ways in: authenticated like the API (``Authorization: Bearer`` and ``X-Organization``; the
member who made it, or an owner or admin of its organization), or the signed link the API hands
out as ``Export.downloadUrl`` (``?expires=...&signature=...``, for a browser's plain link),
valid until the file expires. An expired file answers 410 Gone."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from server.auth import request as request_auth
from server.auth.scope import Scope
from server.core.errors import PublicError, UserInputError
from server.exports import service
from server.exports.models import Export
from server.graphql import ids
from server.graphql.rate_limits import refuse_over_budget
from server.i18n import _

STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


def _not_found() -> JSONResponse:
    return _error("NOT_FOUND", _("Export not found."), 404)


def _export_id(request: Request) -> UUID | None:
    try:
        return ids.decode(request.path_params["id"], "Export")[1]
    except UserInputError:  # a malformed id is simply not found
        return None


async def download(request: Request) -> Response:
    settings = request.app.state.settings
    now = datetime.now(UTC)
    export_id = _export_id(request)
    if export_id is None:
        return _not_found()
    signature = request.query_params.get("signature")
    if signature is not None:
        if not service.check_signature(settings, export_id, request.query_params.get("expires", ""), signature, now):
            return _error("FORBIDDEN", _("This download link is not valid or has expired."), 403)
        export = await Export.get_or_none(id=export_id)
    else:
        principal, token, auth_error = await request_auth.principal_for(request)
        if auth_error is not None:
            return _error(auth_error.code, auth_error.message, STATUS.get(auth_error.code, 400))
        if principal.is_authenticated and (refused := await refuse_over_budget(request, principal, token)) is not None:
            return refused
        try:
            export = await service.downloadable(Scope(principal), export_id)
        except PublicError as exc:
            return _error(exc.code, exc.message, STATUS.get(exc.code, 400))
    if export is None:
        return _not_found()
    if export.status == "expired" or (export.status == "done" and not service.is_ready(export, now)):
        return _error("GONE", _("This export has expired. Start a new one."), 410)
    if export.status != "done":
        return _error("NOT_READY", _("This export is not ready yet."), 409)
    return StreamingResponse(
        service.chunks(export.id),
        media_type=export.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.file_name}"',
            "Content-Length": str(export.size_bytes),
            "Cache-Control": "private, no-store",
        },
    )
