from __future__ import annotations

from server.core.errors import ErrorCode, UserInputError


def required_text(value: str | None, field: str, max_length: int) -> str:
    text = (value or "").strip()
    if not text:
        raise UserInputError(ErrorCode.REQUIRED, f"{field} is required.", field)
    return limited_text(text, field, max_length)


def limited_text(value: str | None, field: str, max_length: int) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) > max_length:
        raise UserInputError(ErrorCode.INVALID, f"{field} is longer than {max_length} characters.", field)
    return text


def one_of(value: str, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise UserInputError(ErrorCode.INVALID, f"{field} must be one of: {', '.join(allowed)}.", field)
    return value
