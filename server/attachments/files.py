"""What an uploaded file is, judged from its bytes (``filetype``: magic numbers), never from
the type or name the client sent; and the name it is kept under (``pathvalidate``)."""

from __future__ import annotations

import unicodedata

import filetype
from pathvalidate import sanitize_filename

SNIFF_BYTES = 8192  # filetype reads at most this much of the head
TEXT = "text/plain"
NAME_LENGTH = 200


def sniff(head: bytes) -> str | None:
    """The content type the bytes show, or None when they show nothing known. Plain text has
    no magic number: UTF-8 without control characters (tabs and line ends aside) counts as
    text/plain."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if _looks_like_text(head):
        return TEXT
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may end inside a character: only that tail may fail to decode.
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text)


def clean_name(given: str | None) -> str:
    """A file name safe on every platform and in a Content-Disposition header: the last part of
    any path, without control or reserved characters, NFC, at most ``NAME_LENGTH`` characters;
    "file" when nothing is left."""
    name = unicodedata.normalize("NFC", given or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = sanitize_filename(name, platform="universal", max_len=NAME_LENGTH).strip(" .")
    return name or "file"
