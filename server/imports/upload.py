"""``POST /imports``: a file of any size up to the import limit, as the request body (GraphQL's
``startImport`` takes files within its input limits only). Authenticated like the API
(``Authorization: Bearer``, ``X-Organization``); the same checks as ``startImport``:

    curl -X POST "$CRM/imports?kind=orders&preset=keycrm&fileName=orders.xlsx&dryRun=true" \\
      -H "Authorization: Bearer $TOKEN" -H "X-Organization: my-shop" --data-binary @orders.xlsx

Answers 202 with the batch's global ID (follow it with ``importBatch``), 400 with every problem
of the file, 401/403 as the API, 413 beyond the size limit."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.auth import request as request_auth
from server.auth.scope import Scope
from server.core.errors import PublicError, UserInputError, problems_of
from server.graphql import ids
from server.graphql.rate_limits import refuse_over_budget
from server.http.body import BodyTooLarge, read_body
from server.i18n import _
from server.imports import service

STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}
TRUE = ("1", "true", "yes")


def _problems(exc: UserInputError) -> JSONResponse:
    errors = [{"field": e.field, "code": e.code.value, "message": e.message} for e in problems_of(exc)]
    return JSONResponse({"errors": errors}, status_code=400)


async def upload(request: Request) -> JSONResponse:
    principal, token, auth_error = await request_auth.principal_for(request)
    if auth_error is not None:
        return JSONResponse({"error": auth_error.message, "code": auth_error.code}, STATUS.get(auth_error.code, 400))
    if principal.is_authenticated and (refused := await refuse_over_budget(request, principal, token)) is not None:
        return refused
    scope = Scope(principal)
    try:
        scope.require("data:import")  # before reading a large body
        body = await read_body(request, service.MAX_FILE_BYTES)
        params = request.query_params
        mapping = json.loads(params["mapping"]) if params.get("mapping") else None
        batch = await service.start(
            scope,
            kind=params.get("kind", "").lower(),
            file_name=params.get("fileName", ""),
            content=body,
            preset=params.get("preset") or None,
            mapping=mapping,
            dry_run=params.get("dryRun", "").lower() in TRUE,
        )
    except BodyTooLarge:
        message = _("The file is larger than %(mb)s MB.", mb=service.MAX_FILE_BYTES // 1024 // 1024)
        return JSONResponse({"error": message, "code": "TOO_LARGE"}, status_code=413)
    except json.JSONDecodeError:
        message = _("The mapping must be an object of column -> field name.")
        return JSONResponse({"errors": [{"field": "mapping", "code": "INVALID", "message": message}]}, 400)
    except UserInputError as exc:
        return _problems(exc)
    except PublicError as exc:
        return JSONResponse({"error": exc.message, "code": exc.code}, STATUS.get(exc.code, 400))
    return JSONResponse({"id": ids.encode("ImportBatch", batch.id), "status": batch.status}, status_code=202)
