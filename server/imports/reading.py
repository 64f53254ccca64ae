"""Rows of an uploaded spreadsheet: CSV (UTF-8 or Windows-1251, comma, semicolon or tab) or
XLSX (the first sheet), as a header and lists of text cells."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from server.core.errors import ErrorCode, UserInputError
from server.i18n import _

FORMATS = ("csv", "xlsx")
MAX_COLUMNS = 200
MAX_ROWS = 200_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024  # an XLSX's XML once unzipped


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


def _csv_rows(content: bytes) -> Iterator[list[str]]:
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


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


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        # A few KB of zip can stand for gigabytes of XML: refuse before anything is unpacked.
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise UserInputError(ErrorCode.INVALID, _("The file is too large once unpacked."), "file")
    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        # max_col: a sheet that declares a far-away cell (XFD1048576) is not padded out to it.
        for row in sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True):
            yield [_cell(v) for v in row]
    finally:
        book.close()


def read_table(content: bytes, fmt: str) -> tuple[list[str], list[list[str]]]:
    """(header, data rows), read as a stream that stops at the limits: at most ``MAX_COLUMNS``
    columns and ``MAX_ROWS`` data rows (one more is read to tell that there are too many)."""
    try:
        rows = _csv_rows(content) if fmt == "csv" else _xlsx_rows(content)
        header: list[str] | None = None
        data: list[list[str]] = []
        for row in rows:
            if not any(cell.strip() for cell in row[: MAX_COLUMNS + 1]):
                continue
            if header is None:
                if len(row) > MAX_COLUMNS and any(cell.strip() for cell in row[MAX_COLUMNS:]):
                    raise UserInputError(
                        ErrorCode.INVALID, _("A file may have at most %(n)s columns.", n=MAX_COLUMNS), "file"
                    )
                header = [h.strip() for h in row[:MAX_COLUMNS]]
                continue
            if len(data) > MAX_ROWS:
                break
            width = len(header)
            data.append((row[:width] + [""] * (width - len(row)))[:width])
    except UserInputError:
        raise
    except Exception as exc:  # openpyxl and the XML parser raise many kinds for a bad file
        message = (
            _("The file is not a readable XLSX workbook.")
            if fmt == "xlsx"
            else _("The file is not a readable CSV file.")
        )
        raise UserInputError(ErrorCode.INVALID, message, "file") from exc
    if header is None:
        raise UserInputError(ErrorCode.INVALID, _("The file has no rows."), "file")
    while header and not header[-1]:  # empty trailing header cells (XLSX pads them)
        header.pop()
    width = len(header)
    return header, [row[:width] for row in data]
