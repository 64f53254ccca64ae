"""``GET /segments/<id>/members.csv``: a segment's members as CSV, streamed in pages of
``BATCH`` rows (keyset by id), so a big segment never sits in memory.

Authenticated like the API (``Authorization: Bearer``, ``X-Organization``) and read through the
caller's Scope: only the accounts they may see, without the columns their role may not see, and
with phones, e-mails and addresses masked for callers without ``pii:read`` (``Scope.mask``)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from server.analytics.rfm import GROUPS
from server.auth import request as request_auth
from server.auth.scope import Scope
from server.core.errors import PublicError, UserInputError
from server.core.money import quantize
from server.core.text import spreadsheet_safe
from server.graphql import ids
from server.graphql.rate_limits import refuse_over_budget
from server.i18n import _
from server.segments import service
from server.segments.models import Segment

BATCH = 500
STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


def _columns(scope: Scope) -> list[tuple[str, object]]:
    """(header, value of a row) for each column the caller may see."""

    def first(row, column: str, field: str, safe=spreadsheet_safe) -> str:
        value = (row[column] or [""])[0]
        return safe(scope.mask("Account", field, value) if value else "")

    columns: list[tuple[str, object]] = [
        (_("ID"), lambda r: ids.encode("Account", r["id"])),
        (_("Name"), lambda r: spreadsheet_safe(r["name"])),
        (_("Phone"), lambda r: first(r, "phones", "phone", str)),  # E.164: never a formula
    ]
    if scope.can_see_field("Account", "emails"):
        columns.append((_("E-mail"), lambda r: first(r, "emails", "emails")))
    columns.append((_("Address"), lambda r: first(r, "addresses", "addresses")))
    if scope.can_see_field("Account", "tags"):
        columns.append((_("Tags"), lambda r: spreadsheet_safe(", ".join(r["tags"] or []))))
    currency = scope.organization.currency
    columns += [
        (_("Orders"), lambda r: r["figures_order_count"]),
        (_("Last order"), lambda r: r["last_order_at"].isoformat() if r["last_order_at"] else ""),
        (
            _("Revenue, %(currency)s", currency=currency),
            lambda r: str(quantize(Decimal(r["figures_revenue_cents"]) / 100)),
        ),
        (_("RFM group"), lambda r: _(GROUPS[r["rfm_group"]]) if r["rfm_group"] else ""),
    ]
    return columns


async def _rows(scope: Scope, segment: Segment, columns) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _value in columns])
    last_id = None
    while True:
        qs = service.members(scope, segment)
        if last_id is not None:
            qs = qs.filter(id__gt=last_id)
        page = (
            await qs.order_by("id")
            .limit(BATCH)
            .values(
                "id",
                "name",
                "phones",
                "emails",
                "addresses",
                "tags",
                "figures_order_count",
                "figures_revenue_cents",
                last_order_at="figures__last_order_at",
                rfm_group="figures__rfm_group",
            )
        )
        for row in page:
            writer.writerow([value(row) for _header, value in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(page) < BATCH:
            return
        last_id = page[-1]["id"]


def _error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message, "code": code}, status_code=status)


async def members_csv(request: Request) -> Response:
    principal, token, auth_error = await request_auth.principal_for(request)
    if auth_error is not None:
        return _error(auth_error.code, auth_error.message, STATUS.get(auth_error.code, 400))
    if principal.is_authenticated and (refused := await refuse_over_budget(request, principal, token)) is not None:
        return refused
    scope = Scope(principal)
    try:
        scope.require("data:export")  # a CSV download is a special right (docs/roles.md)
        segment_id = ids.decode(request.path_params["id"], "Segment")[1]
        segment = await scope.get(Segment, segment_id)
        service.members(scope, segment)  # refuses before the first byte when the role may not use it
        columns = _columns(scope)
    except PublicError as exc:
        return _error(exc.code, exc.message, STATUS.get(exc.code, 400))
    except UserInputError as exc:
        return _error(exc.code.value, _("Segment not found."), 404)
    filename = f"segment-{segment.id}.csv"
    return StreamingResponse(
        _rows(scope, segment, columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
