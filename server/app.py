"""create_app(settings) -> Starlette: the GraphQL endpoint, health check and lifespan."""

from __future__ import annotations

import contextlib
import logging

from limits import parse as parse_limit
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from server import logging_redaction
from server.auth import principal as principals
from server.auth import tokens
from server.auth.throttle import ActionThrottle, LoginThrottle
from server.config import Settings
from server.core.errors import PublicError
from server.db import close_db, init_db
from server.graphql import graphiql
from server.graphql.context import Context
from server.graphql.http_view import GraphQLOverHTTP
from server.graphql.schema import build_schema
from server.http.cors import cors_middleware
from server.i18n import _
from server.i18n.asgi import LocaleMiddleware
from server.jobs import load_job_modules
from server.jobs.arq_worker import connect as arq_connect
from server.jobs.inprocess import InProcessWorker
from server.jobs.registry import set_backend
from server.oauth import consent as oauth_consent
from server.oauth import endpoint as oauth_endpoint
from server.oauth import rfc_endpoints as oauth_rfc
from server.oauth import service as oauth
from server.plugins import webhooks

log = logging.getLogger("crm")


class CRMGraphQL(GraphQLOverHTTP):
    def __init__(self, settings: Settings, **kwargs):
        super().__init__(build_schema(settings), settings, **kwargs)
        self.throttle = LoginThrottle.from_settings(settings)
        self.call_throttle = ActionThrottle(
            self.throttle.limiter, parse_limit(settings.click_to_call_per_user), settings.rate_limit_namespace, "call"
        )

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
            Route("/oauth/authorize", oauth_consent.authorize, methods=["GET", "POST"]),
            Route("/oauth/revoke", oauth_rfc.revoke, methods=["POST"]),
            Route("/oauth/introspect", oauth_rfc.introspect, methods=["POST"]),
            Route("/.well-known/oauth-authorization-server", oauth_rfc.metadata, methods=["GET"]),
        ],
        middleware=[*([cors] if cors else []), Middleware(LocaleMiddleware)],
        exception_handlers={404: not_found},
        lifespan=lifespan,
    )
    app.state.settings = settings  # webhooks and the token endpoint read it
    app.state.login_throttle = graphql.throttle  # the OAuth consent page signs people in too
    return app
