"""GraphQL for the audit trail."""

from __future__ import annotations

import strawberry


@strawberry.type
class AuditQueries:
    pass
