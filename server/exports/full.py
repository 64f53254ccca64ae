"""The full organization export: every table of the organization as JSON lines, one file per
table in a zip, so an owner can take all their data elsewhere.

Left out, because they are secrets or not the organization's data: password, token and key
hashes, plugin and webhook secrets (encrypted), bearer sessions and partners' OAuth tokens and
codes, the job queue and the export files themselves (``EXCLUDED_TABLES``)."""

from __future__ import annotations

import json
import zipfile
from typing import IO

from tortoise import Tortoise, fields
from tortoise.expressions import Subquery

from server.auth.models import Membership
from server.auth.scope import Scope
from server.core.serialize import jsonable
from server.exports.models import Export

PAGE = 1000
# Tables without an organization of their own that still hold its data: model -> the lookup
# that ties a row to the organization.
THROUGH = {"WebhookAttempt": "message__organization_id"}
# Not the organization's data, or secrets whole: sessions, OAuth tokens and codes (hashes of
# bearer credentials), the job queue, cached queries, the export files.
EXCLUDED_TABLES = frozenset(
    {
        "AuthToken",
        "OAuthAccessToken",
        "OAuthAuthorizationCode",
        "OAuthRefreshToken",
        "JobRun",
        "PersistedQuery",
        "ExportChunk",
    }
)


def is_secret(field_name: str) -> bool:
    """Hashes of passwords, tokens and keys, and encrypted plugin/webhook secrets."""
    return field_name.endswith("_hash") or field_name == "secrets"


def tables() -> dict[str, tuple[type, dict]]:
    """Each exported table: its model and the filter that keeps this organization's rows
    (the filter takes the organization id)."""
    out = {}
    for name, model in Tortoise.apps["crm"].items():
        if name in EXCLUDED_TABLES:
            continue
        if name == "Organization":
            out[model._meta.db_table] = (model, "id")
        elif name == "User":
            out[model._meta.db_table] = (model, "members")
        elif "organization" in model._meta.fields_map:
            out[model._meta.db_table] = (model, "organization_id")
        elif name in THROUGH:
            out[model._meta.db_table] = (model, THROUGH[name])
    return out


def _columns(model) -> list[str]:
    # Binary columns are uploaded files (an import's spreadsheet): their rows are exported as
    # the records they became, not as bytes JSON cannot hold.
    binary = {name for name, f in model._meta.fields_map.items() if isinstance(f, fields.BinaryField)}
    return [name for name in model._meta.fields_db_projection if not is_secret(name) and name not in binary]


async def write_organization(scope: Scope, export: Export, target: IO[bytes]) -> int:
    organization_id = scope.organization_id
    done = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table, (model, lookup) in sorted(tables().items()):
            if lookup == "members":
                qs = model.filter(id__in=Subquery(Membership.filter(organization_id=organization_id).values("user_id")))
            else:
                qs = model.filter(**{lookup: organization_id})
            columns = _columns(model)
            pk = model._meta.pk_attr
            with archive.open(f"{table}.jsonl", "w") as out:
                last = None
                while True:
                    page_qs = qs if last is None else qs.filter(**{f"{pk}__gt": last})
                    rows = await page_qs.order_by(pk).limit(PAGE).values(*columns)
                    for row in rows:
                        out.write(json.dumps(jsonable(row), ensure_ascii=False).encode() + b"\n")
                    done += len(rows)
                    if len(rows) < PAGE:
                        break
                    last = rows[-1][pk]
            await Export.filter(id=export.id).update(rows_done=done)
    return done
