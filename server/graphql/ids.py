"""Opaque Relay global IDs: base64 of "<Type>:<uuid>". Primary keys are random UUIDs,
so an ID tells nothing about another tenant's records or how many there are."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from server.core.errors import ErrorCode, UserInputError
from server.i18n import _

_URLSAFE = bytes.maketrans(b"+/", b"-_")


def urlsafe_b64(raw: bytes) -> str:
    """``base64.urlsafe_b64encode(raw)`` without its padding, in two C calls (IDs and cursors
    are made once per row of every page)."""
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def encode(type_name: str, pk: UUID) -> str:
    return urlsafe_b64(f"{type_name}:{pk}".encode())


def decode(global_id: str, expected: str | None = None, field: str = "id") -> tuple[str, UUID]:
    """(type name, uuid). A malformed ID or one of another type is a user error."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _colon, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        pk = UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise UserInputError(ErrorCode.INVALID, _("'%(id)s' is not a valid ID.", id=global_id), field) from exc
    if expected is not None and type_name != expected:
        raise UserInputError(
            ErrorCode.INVALID, _("'%(id)s' is not an ID of a %(type)s.", id=global_id, type=expected), field
        )
    return type_name, pk


def decode_pk(global_id: str | None, expected: str, field: str = "id") -> UUID | None:
    return None if global_id is None else decode(global_id, expected, field)[1]
