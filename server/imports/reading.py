"""Rows of an uploaded spreadsheet: CSV (UTF-8 or Windows-1251, comma, semicolon or tab) or
XLSX (the first sheet), as a header and lists of text cells."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from server.core.errors import ErrorCode, UserInputError
from server.i18n import _

FORMATS = ("csv", "xlsx")


def file_format(file_name: str) -> str:
    suffix = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if suffix not in FORMATS:
        raise UserInputError(
            ErrorCode.INVALID,
            _("Only .csv and .xlsx files can be imported, not '%(name)s'.", name=file_name),
            "fileName",
        )
    return suffix


def _decode(content: bytes) -> str:
    # Bitrix24 and 1C write Windows-1251 more often than not; a UTF-8 BOM is dropped.
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1251")


def _csv_rows(content: bytes) -> list[list[str]]:
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel keeps numbers as floats: 3.0 is "3", a price 19.9 is "19.9" (not 19.899999...).
        return str(Decimal(repr(value)).normalize()) if value != int(value) else str(int(value))
    return str(value)


def _xlsx_rows(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise UserInputError(ErrorCode.INVALID, _("The file is not a readable XLSX workbook."), "file") from exc
    try:
        sheet = book.worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return [row for row in rows if any(cell.strip() for cell in row)]


def read_table(content: bytes, fmt: str) -> tuple[list[str], list[list[str]]]:
    """(header, data rows); every row padded to the header's width."""
    rows = _csv_rows(content) if fmt == "csv" else _xlsx_rows(content)
    if not rows:
        raise UserInputError(ErrorCode.INVALID, _("The file has no rows."), "file")
    header = [h.strip() for h in rows[0]]
    width = len(header)
    return header, [(row + [""] * width)[:width] for row in rows[1:]]
