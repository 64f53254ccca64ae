"""Automatic persisted queries, kept in the database when there is no Redis (see persisted.py)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class PersistedQuery(Model):
    """A GraphQL document registered under its SHA-256, shared by every API process.

    Not tied to an organization: a document is only text (no data), and a hash names
    exactly one document."""

    sha256 = fields.CharField(max_length=64, primary_key=True)
    query = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "persisted_query"
