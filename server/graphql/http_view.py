"""Strawberry's ASGI view as the API serves it over HTTP.

- The response media type the client asks for, with the GraphQL-over-HTTP status codes
  (``media.py``).
- Requests refused before GraphQL runs (bad JSON, a body over ``max_request_bytes``, a
  mutation over GET) answered in the API's error shape, not strawberry's plain text.
- The body read with a cap and decoded with ``server.http.body`` (deep JSON is a 400).
- Our GraphiQL page (``graphiql.py``).
- File uploads as GraphQL multipart requests (``attachFile``), only with an
  ``Apollo-Require-Preflight`` or ``X-Apollo-Operation-Name`` header: a plain HTML form on
  another site cannot send those, so it cannot upload in a signed-in user's name (CSRF); the
  body capped at ``attachment_max_bytes`` plus ``max_request_bytes``, files spooled to disk.

Each is an override of one hook of strawberry's view, so strawberry keeps doing the rest.
"""

from __future__ import annotations

import logging

from cross_web import FormData, HTTPException, StarletteRequestAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.schema.exceptions import InvalidOperationTypeError

from server.config import Settings
from server.graphql import graphiql, media
from server.http.body import BadJSON, BodyTooLarge, loads, read_body
from server.i18n import N_, _

log = logging.getLogger("crm")

# Strawberry's reasons for refusing a request, in words a frontend developer can act on.
STRAWBERRY_REASONS = {
    "Unsupported content type": N_("Send the request as JSON, with Content-Type: application/json."),
    "No GraphQL query found in the request": N_("The request has no GraphQL query."),
    "mutations are not allowed when using GET": N_("Mutations are not allowed over GET: send them with POST."),
    "Batching is not enabled": N_("Send one operation per request: batches are not accepted."),
    "Unable to parse the multipart body": N_("The multipart request could not be read."),
    "File(s) missing in form data": N_("The multipart request's map names a file that was not sent."),
}
# Headers a browser sends cross-site only after a CORS preflight (Apollo's CSRF rule).
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
MAX_UPLOAD_FILES = 10
MAX_UPLOAD_FIELDS = 20
ERROR_CODES = {405: "METHOD_NOT_ALLOWED", 413: "REQUEST_TOO_LARGE"}


class CappedRequestAdapter(StarletteRequestAdapter):
    """Strawberry's view of the request, reading at most ``limit`` bytes of body (then 413),
    or ``upload_limit`` of a multipart request."""

    def __init__(self, request: Request, limit: int, upload_limit: int | None = None):
        super().__init__(request)
        self.limit = limit
        self.upload_limit = upload_limit if upload_limit is not None else limit

    @property
    def state(self):
        """The Starlette request's state (what ``get_context`` learnt about the caller)."""
        return self._request.state

    async def get_body(self) -> bytes:
        try:
            return await read_body(self._request, self.limit)
        except BodyTooLarge as exc:
            raise HTTPException(413, _("The request body is larger than %(limit)s bytes.", limit=exc.limit)) from exc

    async def get_form_data(self) -> FormData:
        """The multipart form, its files spooled to temporary files by Starlette; the body
        refused with 413 as soon as it passes ``upload_limit``."""
        limit = self.upload_limit
        declared = self._request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise HTTPException(413, _("The request body is larger than %(limit)s bytes.", limit=limit))
        received = 0
        receive = self._request.receive

        async def capped():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        request = Request(self._request.scope, receive=capped)
        try:
            form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=MAX_UPLOAD_FIELDS)
        except BodyTooLarge as exc:
            raise HTTPException(413, _("The request body is larger than %(limit)s bytes.", limit=exc.limit)) from exc
        except (MultiPartException, StarletteHTTPException) as exc:
            raise HTTPException(400, "Unable to parse the multipart body") from exc
        self._request.state.upload_form = form  # its temporary files are closed after the response
        return FormData(files=form, form=form)


class GraphQLOverHTTP(GraphQL):
    def __init__(self, schema, settings: Settings, **kwargs):
        super().__init__(schema, multipart_uploads_enabled=True, **kwargs)
        self.settings = settings
        upload_limit = settings.attachment_max_bytes + settings.max_request_bytes
        self.request_adapter_class = lambda request: CappedRequestAdapter(
            request, settings.max_request_bytes, upload_limit
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            try:
                response = await self.run(request)
            except HTTPException as exc:
                response = self.error_response(request, exc.status_code, exc.reason)
            except ClientDisconnect:
                # The client went away before sending its whole request: nobody to answer, not our error.
                log.debug("client disconnected before the request was read")
                return
            await response(scope, receive, send)
        finally:
            form = getattr(request.state, "upload_form", None)
            if form is not None:  # an upload's temporary files
                await form.close()

    def error_response(self, request: Request, status: int, message: str) -> Response:
        """A request refused before GraphQL ran, in the shape of every other error:
        ``{"errors": [{"message", "extensions": {"code"}}]}``."""
        if message in STRAWBERRY_REASONS:
            message = _(STRAWBERRY_REASONS[message])
        body = {"errors": [{"message": message, "extensions": {"code": ERROR_CODES.get(status, "BAD_REQUEST")}}]}
        media_type = media.response_media_type(request.headers.get("accept"))
        headers = {"allow": "POST"} if status == 405 else None
        return Response(self.encode_json(body), status_code=status, media_type=media_type, headers=headers)

    async def execute_single(self, *args, **kwargs):
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                # A mutation over GET: the method is wrong, not the request (GraphQL over HTTP).
                raise HTTPException(405, exc.reason) from exc.__cause__
            raise

    async def parse_http_body(self, request):
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        if content_type == "multipart/form-data" and not any(
            (request.headers.get(name) or "").strip() for name in PREFLIGHT_HEADERS
        ):
            raise HTTPException(
                400,
                _(
                    "A multipart request needs the header 'Apollo-Require-Preflight: true' (or "
                    "'X-Apollo-Operation-Name'), so a form on another site cannot send it."
                ),
            )
        if content_type == "multipart/form-data":
            # Files are spooled to disk as the body is read: only a signed-in caller may make us.
            from server.auth import request as request_auth

            principal, _token, _error = await request_auth.principal_for(request)
            if not principal.is_authenticated:
                raise HTTPException(401, _("Sign in before uploading files."))
        return await super().parse_http_body(request)

    def parse_json(self, data: str | bytes):
        try:
            return loads(data)
        except BadJSON as exc:
            if exc.too_deep:
                raise HTTPException(400, _("The JSON of the request is nested too deeply.")) from exc
            raise HTTPException(400, _("The request is not valid JSON.")) from exc

    async def get_sub_response(self, request: Request) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = media.response_media_type(request.headers.get("accept"))
        return sub_response

    def create_response(self, response_data, sub_response: Response) -> Response:
        media_type = sub_response.media_type or media.JSON
        status = 200
        if media_type == media.GRAPHQL_RESPONSE and isinstance(response_data, dict):
            if media.is_request_error(response_data):
                # Under this media type a request that never executed has no data entry and a 4xx.
                response_data = {key: value for key, value in response_data.items() if key != "data"}
                status = media.request_error_status(response_data)
        response = Response(self.encode_json(response_data), status_code=status, media_type=media_type)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        return graphiql.page(self.settings)
