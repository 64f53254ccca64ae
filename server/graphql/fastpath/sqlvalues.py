"""SQL expressions (PostgreSQL) that write a value's JSON text exactly as the Python writer of
the planned path does: global IDs, cursors, dates, decimals. Used by describe.py for computed
fields and by sqljson.py for everything else; each mirrors the Python function it names."""

from __future__ import annotations

from collections.abc import Callable

# A value the Python writer would refuse (its ``Fallback``): PostgreSQL's JSON escaping never
# leaves this byte raw, so finding it in an answer is unambiguous.
MARK = "\x01"
MARK_SQL = "chr(1)"

Column = Callable[[str], str]  # a column name -> its SQL reference in the current row


def literal(text: str) -> str:
    """A SQL string literal of our own text (keys and type names)."""
    return "'" + text.replace("'", "''") + "'"


def json_string_literal(text: str) -> str:
    """A SQL literal holding the JSON string of ``text`` (GraphQL names: nothing to escape)."""
    return literal(f'"{text}"')


def base64url(text_sql: str) -> str:
    """``ids.urlsafe_b64`` of a text: base64 without padding, ``-_`` for ``+/``. PostgreSQL breaks
    its base64 into lines of 76 characters; the newlines are dropped."""
    return f"rtrim(translate(encode(convert_to({text_sql}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"


def iso_datetime(ref: str) -> str:
    """``datetime.isoformat()`` of a timestamp as Tortoise returns it (UTC, ``+00:00``; the
    microseconds only when there are some), as SQL text."""
    # '.000000' can only be the fraction: the rest of the text has no dot.
    return f"(replace(to_char(({ref} AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') || '+00:00')"


def quoted(text_sql: str) -> str:
    """A JSON string from SQL text, escaped by PostgreSQL as orjson escapes it."""
    return f"to_json(({text_sql})::text)::text"


def global_id(type_name: str, column: str = "id") -> Callable[[Column], str]:
    """``ids.encode(type_name, row[column])`` (null when the column is)."""

    def sql(col: Column) -> str:
        ref = col(column)
        encoded = base64url(f"{literal(type_name + ':')} || {ref}::text")
        return f"CASE WHEN {ref} IS NULL THEN NULL ELSE '\"' || {encoded} || '\"' END"

    return sql


def first_string(column: str) -> Callable[[Column], str]:
    """``row[column][0] if row[column] else None`` of a JSON list of strings (anything else in
    the first place is refused, as the writer refuses a non-string)."""

    def sql(col: Column) -> str:
        value = f"({col(column)})::jsonb"
        first = f"({value} -> 0)"
        return (
            f"CASE WHEN jsonb_typeof({value}) IS NULL OR jsonb_typeof({value}) = 'null' THEN NULL "
            f"WHEN jsonb_typeof({value}) <> 'array' THEN {MARK_SQL} "
            f"WHEN jsonb_typeof({first}) IS NULL OR jsonb_typeof({first}) = 'null' THEN NULL "
            f"WHEN jsonb_typeof({first}) = 'string' THEN to_json({first} #>> '{{}}')::text ELSE {MARK_SQL} END"
        )

    return sql


def quantity(column: str) -> Callable[[Column], str]:
    """describe._quantity as a JSON string: whole numbers without decimals, others without
    trailing zeros (the column's scale is small: no exponent notation)."""

    def sql(col: Column) -> str:
        ref = col(column)
        return (
            f"CASE WHEN {ref} IS NULL THEN NULL WHEN {ref} = trunc({ref}) THEN {quoted(f'trunc({ref})')} "
            f"ELSE {quoted(f'rtrim({ref}::text, {literal(chr(48))})')} END"
        )

    return sql
