"""create_app(settings) -> Starlette: the GraphQL endpoint, health check and lifespan."""

from __future__ import annotations

import contextlib
import logging

from cross_web import HTTPException, StarletteRequestAdapter
from limits import parse as parse_limit
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from server import logging_redaction
from server.auth import principal as principals
from server.auth import tokens
from server.auth.throttle import ActionThrottle, LoginThrottle
from server.config import Settings
from server.core.errors import PublicError
from server.db import close_db, init_db
from server.graphql import graphiql, media
from server.graphql.context import Context
from server.graphql.schema import build_schema
from server.http.body import BadJSON, BodyTooLarge, loads, read_body
from server.http.cors import cors_middleware
from server.i18n import N_, _
from server.i18n.asgi import LocaleMiddleware
from server.jobs import load_job_modules
from server.jobs.arq_worker import connect as arq_connect
from server.jobs.inprocess import InProcessWorker
from server.jobs.registry import set_backend
from server.oauth import endpoint as oauth_endpoint
from server.oauth import service as oauth
from server.plugins import webhooks

log = logging.getLogger("crm")


# Strawberry's reasons for refusing a request, in words a frontend developer can act on.
STRAWBERRY_REASONS = {
    "Unsupported content type": N_("Send the request as JSON, with Content-Type: application/json."),
    "No GraphQL query found in the request": N_("The request has no GraphQL query."),
    "mutations are not allowed when using GET": N_("Mutations are not allowed over GET: send them with POST."),
    "Batching is not enabled": N_("Send one operation per request: batches are not accepted."),
}


class CappedRequestAdapter(StarletteRequestAdapter):
    """Strawberry's view of the request, reading at most ``limit`` bytes of body (then 413)."""

    def __init__(self, request: Request, limit: int):
        super().__init__(request)
        self.limit = limit

    async def get_body(self) -> bytes:
        try:
            return await read_body(self._request, self.limit)
        except BodyTooLarge as exc:
            raise HTTPException(
                413, _("The request body is larger than %(limit)s bytes.", limit=exc.limit)
            ) from exc


class CRMGraphQL(GraphQL):
    """Strawberry's ASGI view, plus: the response media type the client asks for (GraphQL over
    HTTP, server/graphql/media.py), HTTP errors in the API's error shape, a capped body, JSON
    that cannot crash the decoder, and our GraphiQL page."""

    def __init__(self, settings: Settings, **kwargs):
        super().__init__(build_schema(settings), **kwargs)
        self.settings = settings
        self.throttle = LoginThrottle.from_settings(settings)
        self.call_throttle = ActionThrottle(
            self.throttle.limiter, parse_limit(settings.click_to_call_per_user), settings.rate_limit_namespace, "call"
        )
        self.request_adapter_class = lambda request: CappedRequestAdapter(request, settings.max_request_bytes)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = self.error_response(request, exc.status_code, exc.reason)
        except ClientDisconnect:
            # The client went away before sending its whole request: nobody to answer, not our error.
            log.debug("client disconnected before the request was read")
            return
        await response(scope, receive, send)

    def error_response(self, request: Request, status: int, message: str) -> Response:
        """A request refused before GraphQL ran (bad JSON, too large, wrong method), in the
        shape of every other error: ``{"errors": [{"message", "extensions": {"code"}}]}``."""
        code = {405: "METHOD_NOT_ALLOWED", 413: "REQUEST_TOO_LARGE"}.get(status, "BAD_REQUEST")
        if message in STRAWBERRY_REASONS:
            message = _(STRAWBERRY_REASONS[message])
        body = {"errors": [{"message": message, "extensions": {"code": code}}]}
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

    async def get_context(self, request: Request, response: Response) -> Context:
        token = _bearer(request)
        principal, auth_error = principals.ANONYMOUS, None
        if token:
            user = await tokens.user_for(token)
            if user is not None:
                try:
                    principal = await principals.for_user(user, request.headers.get("x-organization"))
                except PublicError as exc:  # e.g. X-Organization the user does not belong to
                    auth_error = exc
            else:
                # A partner's OAuth access token: one organization, its granted permissions.
                principal = await oauth.principal_for(token) or principals.ANONYMOUS
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            throttle=self.throttle,
            call_throttle=self.call_throttle,
            principal=principal,
            token=token,
            auth_error=auth_error,
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        for error in response.get("errors") or []:
            # Parse and validation errors carry no code of their own; every error gets one.
            error.setdefault("extensions", {}).setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        return response


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def create_app(settings: Settings | None = None, *, manage_db: bool = True, run_jobs: bool | None = None) -> Starlette:
    """``manage_db=False`` when the caller (tests, the CLI) has already initialised Tortoise.

    ``run_jobs`` (default: as ``manage_db``) starts background work with the app: without
    REDIS_URL the in-process worker (relay, jobs, periodic jobs); with it, only a connection to
    enqueue jobs for the ``crm worker`` processes, which also relay the outbox."""
    settings = settings or Settings()
    settings.require_secret_key()  # refuse to serve with the placeholder key outside debug/demo
    run_jobs = manage_db if run_jobs is None else run_jobs
    logging_redaction.install()

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if manage_db:
            await init_db(settings)
        worker = pool = None
        if run_jobs:
            load_job_modules()
            if settings.redis_url:
                try:
                    backend = await arq_connect(settings)
                except (OSError, RedisError) as exc:
                    # Serve anyway: changes still reach the outbox and the workers relay them
                    # once Redis is back; only enqueueing from a request (a retry) fails meanwhile.
                    log.error("Redis at REDIS_URL is unreachable (%s): jobs wait in the outbox", exc)
                else:
                    pool = backend.pool
                    set_backend(backend)
            else:
                worker = InProcessWorker(settings)
                worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            if pool is not None:
                await pool.aclose()
            if manage_db:
                await close_db()

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": _("Page not found")}, status_code=404)

    graphql = CRMGraphQL(settings, graphql_ide="graphiql")
    # CORS outermost, so a preflight is answered before anything else looks at the request.
    cors = cors_middleware(settings)
    app = Starlette(
        debug=False,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Mount(graphiql.STATIC_PATH, graphiql.static_files(), name="graphiql-static"),
            Route("/health", health),
            Route("/hooks/{plugin}/{token}/{path:path}", webhooks.handle, methods=["GET", "POST"]),
            Route("/oauth/token", oauth_endpoint.token, methods=["POST"]),
        ],
        middleware=[*([cors] if cors else []), Middleware(LocaleMiddleware)],
        exception_handlers={404: not_found},
        lifespan=lifespan,
    )
    app.state.settings = settings  # webhooks and the token endpoint read it
    return app
