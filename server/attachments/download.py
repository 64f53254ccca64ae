"""``GET /files/<signed token>``: an attachment's bytes, streamed from storage.

The token is the link the API hands out as ``Attachment.url`` to callers who can read the
object; it carries the attachment, an expiry and an HMAC (server/core/signing.py). An expired
or altered link, or one to a deleted file or object, is refused with 404 and says nothing
more. The file always downloads (``Content-Disposition: attachment``), with its sniffed type,
``nosniff`` and a sandboxing CSP, so a browser never renders it as a page of this site."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from server.attachments import service
from server.i18n import _


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the real one in RFC 6266/5987 form."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def download(request: Request) -> Response:
    settings = request.app.state.settings
    attachment = await service.by_link(settings, request.path_params["token"])
    if attachment is None:
        return JSONResponse(
            {"error": _("This link is not valid or has expired. Ask for the file again."), "code": "NOT_FOUND"},
            status_code=404,
            headers={"Cache-Control": "no-store"},
        )
    return StreamingResponse(
        service.content(settings, attachment),
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.name),
            "Content-Length": str(attachment.size_bytes),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
