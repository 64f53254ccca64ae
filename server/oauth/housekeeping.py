"""Deleting what the code flow leaves behind, in batches, after a retention period.

A code or refresh token is kept a while after it stopped working (``KEEP_USED``) because
presenting a used one again is how a copied credential is recognised (its whole family is
revoked, server/oauth/endpoint.py): a used refresh token stays at least until it would have
expired anyway. Then nothing needs it: a deleted code or token presented again is simply
unknown (``invalid_grant``), with nothing left to revoke."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.expressions import Q

from server.oauth.models import OAuthAuthorizationCode, OAuthRefreshToken

KEEP_USED = timedelta(days=1)
BATCH = 1000  # rows per DELETE: short statements, no long lock on a busy table


async def _delete_in_batches(model, condition: Q) -> int:
    deleted = 0
    while True:
        ids = await model.filter(condition).limit(BATCH).values_list("id", flat=True)
        if not ids:
            return deleted
        deleted += await model.filter(id__in=list(ids)).delete()
        if len(ids) < BATCH:
            return deleted


async def forget_oauth_rows(now: datetime) -> dict[str, int]:
    cutoff = now - KEEP_USED
    return {
        # A code lives 60 seconds; used or not, a day after it expired nothing will ask for it.
        "oauth_codes": await _delete_in_batches(OAuthAuthorizationCode, Q(expires_at__lt=cutoff)),
        "oauth_refresh_tokens": await _delete_in_batches(
            OAuthRefreshToken, Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)
        ),
    }
