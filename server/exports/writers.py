"""Writing an export's rows to a temporary file, a page at a time, so a big list never sits in
memory: CSV with the csv module, XLSX with openpyxl in write-only mode (rows streamed to disk)."""

from __future__ import annotations

import csv
import io
from typing import IO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}


class CsvWriter:
    """UTF-8 with a byte order mark: Excel then opens Cyrillic text correctly."""

    def __init__(self, target: IO[bytes]):
        self.text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text)

    def write(self, row: list) -> None:
        self.writer.writerow(row)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


class XlsxWriter:
    def __init__(self, target: IO[bytes], title: str):
        self.target = target
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(title=title[:31])

    def write(self, row: list) -> None:
        # Control characters are not allowed in XLSX cells (openpyxl refuses them).
        self.sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])

    def close(self) -> None:
        self.book.save(self.target)


def writer_for(fmt: str, target: IO[bytes], title: str):
    return XlsxWriter(target, title) if fmt == "xlsx" else CsvWriter(target)
