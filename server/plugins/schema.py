"""GraphQL for managing plugin installations."""

from __future__ import annotations

import strawberry


@strawberry.type
class PluginQueries:
    pass


@strawberry.type
class PluginMutations:
    pass
