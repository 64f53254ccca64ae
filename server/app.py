"""create_app(settings) -> Starlette: the GraphQL endpoint, health check and lifespan."""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import timedelta

import orjson
from cross_web import HTTPException
from limits import parse as parse_limit
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from server import logging_redaction
from server.analytics import csv_export
from server.attachments import download as attachment_download
from server.auth import request as request_auth
from server.auth.principal import ANONYMOUS
from server.auth.throttle import ActionThrottle, LoginThrottle
from server.campaigns import pages as campaign_pages
from server.clicks import pages as click_pages
from server.config import Settings
from server.db import close_db, init_db
from server.email import pages as email_pages
from server.exports import download as export_download
from server.graphql import graphiql
from server.graphql.context import Context
from server.graphql.fastpath import FastPath
from server.graphql.http_view import GraphQLOverHTTP
from server.graphql.lean import LeanLane
from server.graphql.persisted import PersistedQueries, PersistedQueryError
from server.graphql.rate_limits import CostRateLimiter
from server.graphql.schema import build_schema
from server.http.cors import cors_middleware, origin_allowed
from server.i18n import _
from server.i18n.asgi import LocaleMiddleware
from server.imports import upload as import_upload
from server.jobs import load_job_modules
from server.jobs.arq_worker import connect as arq_connect
from server.jobs.inprocess import InProcessWorker
from server.jobs.registry import set_backend
from server.oauth import consent as oauth_consent
from server.oauth import endpoint as oauth_endpoint
from server.oauth import rfc_endpoints as oauth_rfc
from server.plugins import egress, webhooks
from server.realtime import bus as live_bus
from server.realtime.connection import Connections, LiveConnectionHandler, TextFrames
from server.reports import pages as report_pages
from server.segments import export as segment_export
from server.surveys import pages as survey_pages
from server.webchat import routes as webchat_routes

log = logging.getLogger("crm")


class CRMGraphQL(GraphQLOverHTTP):
    # Subscriptions (server/realtime): graphql-transport-ws only; the older graphql-ws protocol
    # has no pings and is deprecated by its own authors.
    graphql_transport_ws_handler_class = LiveConnectionHandler
    websocket_adapter_class = TextFrames

    def __init__(self, settings: Settings, **kwargs):
        super().__init__(
            build_schema(settings),
            settings,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout_seconds),
            max_subscriptions_per_connection=settings.ws_max_subscriptions_per_connection,
            **kwargs,
        )
        self.connections = Connections(settings)
        self.fast_path = FastPath(self.schema, settings)
        self.persisted = PersistedQueries(settings)
        self.throttle = LoginThrottle.from_settings(settings)
        self.call_throttle = ActionThrottle(
            self.throttle.limiter, parse_limit(settings.click_to_call_per_user), settings.rate_limit_namespace, "call"
        )
        self.rate_limiter = CostRateLimiter(settings, self.throttle.limiter)

    async def parse_http_body(self, request):
        # Automatic persisted queries: a hash stands for a document registered earlier; only
        # signed-in callers register documents (get_context ran first and says who is calling).
        signed_in = getattr(request.state, "signed_in", False)
        return await self.persisted.resolve(await super().parse_http_body(request), may_register=signed_in)

    def should_render_graphql_ide(self, request) -> bool:
        # A GET with only a persisted query's hash is an API call, whatever it accepts.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    def is_websocket_origin_allowed(self, request, origin: str) -> bool:
        # A page may open a websocket from where it may call over HTTP (CORS settings).
        return origin_allowed(self.settings, origin)

    async def on_ws_connect(self, context: Context):
        await self.connections.sign_in(context)

    async def get_context(self, request: Request, response: Response) -> Context:
        if isinstance(request, WebSocket):  # signed in by connection_init (on_ws_connect)
            return Context(
                request=request,
                response=None,
                settings=self.settings,
                throttle=self.throttle,
                call_throttle=self.call_throttle,
                principal=ANONYMOUS,
            )
        principal, token, auth_error = await request_auth.principal_for(request)
        budgets = self.rate_limiter.for_request(principal, token, request.client.host if request.client else None)
        request.state.rate_limits = budgets  # for run(): headers on every response
        request.state.signed_in = principal.is_authenticated
        return Context(
            rate_limits=budgets,
            request=request,
            response=response,
            settings=self.settings,
            throttle=self.throttle,
            call_throttle=self.call_throttle,
            principal=principal,
            token=token,
            auth_error=auth_error,
        )

    async def execute_single(self, request, request_adapter, sub_response, context, root_value, request_data):
        # Known read operations are answered from a plan (server/graphql/fastpath); anything
        # else, or any error, by strawberry. GET runs queries only if the view allows them.
        if request_adapter.method == "POST" or self.allow_queries_via_get:
            result = await self.fast_path.execute(
                request_data.query, request_data.variables, request_data.operation_name, context
            )
            if result is not None:
                return result
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)

    def encode_json(self, data: object) -> bytes:
        # orjson for every answer (planned or not), so both paths write the same bytes; the
        # stdlib for what orjson refuses (integers beyond 64 bits, lone surrogates).
        try:
            return orjson.dumps(data)
        except TypeError:
            # Escaped ASCII also carries a lone surrogate echoed back in an error message.
            return json.dumps(data, separators=(",", ":")).encode()

    async def run(self, request, context=UNSET, root_value=UNSET) -> Response:
        try:
            response = await super().run(request, context, root_value)
        except PersistedQueryError as exc:
            # Apollo's answers: an unknown hash is a 200 the client reacts to by sending the query.
            response = JSONResponse(exc.body(), status_code=exc.status, headers={"Cache-Control": "private, no-cache"})
        except HTTPException as exc:  # refused before GraphQL ran: answered here so it gets the headers too
            response = self.error_response(request, exc.status_code, exc.reason)
        budgets = getattr(request.state, "rate_limits", None)
        if budgets is not None:
            await budgets.write_headers(response)
        return response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        for error in response.get("errors") or []:
            # Parse and validation errors carry no code of their own; every error gets one.
            error.setdefault("extensions", {}).setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        return response


def app_from_environment() -> Starlette:
    """The app of one `crm serve --workers N` process: settings from settings/ and the environment."""
    return create_app(Settings())


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
            await graphql.persisted.aclose()
            await live_bus.close_bus(settings)
            await egress.close_pools()
            if manage_db:
                await close_db()

    async def health(_request: Request) -> JSONResponse:
        # How many live subscriptions this process holds: for operators (and the tests that
        # wait for a subscriber on another process before causing an event).
        return JSONResponse({"status": "ok", "live_subscriptions": live_bus.bus_for(settings).count()})

    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": _("Page not found")}, status_code=404)

    graphql = CRMGraphQL(settings, graphql_ide="graphiql")
    # CORS outermost, so a preflight is answered before anything else looks at the request.
    cors = cors_middleware(settings)
    app = Starlette(
        debug=False,
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Mount(graphiql.STATIC_PATH, graphiql.static_files(), name="graphiql-static"),
            Route("/health", health),
            Route("/imports", import_upload.upload, methods=["POST"]),
            Route("/hooks/{plugin}/{token}/{path:path}", webhooks.handle, methods=["GET", "POST"]),
            Route("/oauth/token", oauth_endpoint.token, methods=["POST"]),
            Route("/s/{token}", survey_pages.survey_page, methods=["GET", "POST"]),
            Route("/u/{token}", campaign_pages.unsubscribe_page, methods=["GET", "POST"]),
            Route("/e/{token}", email_pages.unsubscribe_page, methods=["GET", "POST"]),
            Route("/chat/static/webchat.js", webchat_routes.script, methods=["GET"]),
            Route("/chat/{key}", webchat_routes.page, methods=["GET"]),
            Route("/chat/{key}/start", webchat_routes.start, methods=["POST"]),
            Route("/chat/{key}/messages", webchat_routes.messages, methods=["GET", "POST"]),
            Route("/c/{token}", click_pages.follow, methods=["GET"]),
            Route("/analytics/{metric}.csv", csv_export.download, methods=["GET"]),
            Route("/segments/{id}/members.csv", segment_export.members_csv, methods=["GET"]),
            Route("/exports/{id}/download", export_download.download, methods=["GET"]),
            Route("/files/{token}", attachment_download.download, methods=["GET"]),
            Route("/oauth/authorize", oauth_consent.authorize, methods=["GET", "POST"]),
            Route("/oauth/revoke", oauth_rfc.revoke, methods=["POST"]),
            Route("/oauth/introspect", oauth_rfc.introspect, methods=["POST"]),
            Route("/.well-known/oauth-authorization-server", oauth_rfc.metadata, methods=["GET"]),
            Route("/reports", report_pages.report_page, methods=["GET"]),
            Route("/reports/login", report_pages.login_page, methods=["GET", "POST"]),
            Route("/reports/logout", report_pages.logout, methods=["POST"]),
        ],
        # The lean lane inside CORS (which steps aside for requests with an Origin anyway): known
        # reads answered before routing and the view (server/graphql/lean.py, docs/fastpath.md).
        # The language first, so whatever answers (the lane included) starts from Accept-Language.
        middleware=[Middleware(LocaleMiddleware), *([cors] if cors else []), Middleware(LeanLane, view=graphql)],
        exception_handlers={404: not_found},
        lifespan=lifespan,
    )
    app.state.settings = settings  # webhooks and the token endpoint read it
    app.state.login_throttle = graphql.throttle  # the OAuth consent page signs people in too
    app.state.rate_limiter = graphql.rate_limiter  # CSV downloads and the report page spend from it too
    return app
