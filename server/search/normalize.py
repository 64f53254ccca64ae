"""The one text both engines index: lower case, Latin letters, no accents, digits of phones.

Ukrainian is written in Latin letters by the official table of the Cabinet of Ministers of
Ukraine (KMU resolution No. 55 of 27 January 2010), so "Шевченко" and "Shevchenko" are the same
stored text, "shevchenko", and a query in either alphabet finds both. The table has letters that
depend on their place: є ї й ю я are ye yi y yu ya at the start of a word and ie i i iu ia
elsewhere, and "зг" is "zgh" (so it does not read as "жг"). The apostrophe and the soft sign are
dropped. Russian letters not in the table are written the common way (ё yo, ы y, э e, ъ dropped),
so mixed-alphabet names still match. Accents of Latin letters are removed ("Müller" finds
"muller"), and everything that is not a letter or digit separates words.
"""

from __future__ import annotations

import re
import unicodedata

from server.core.phones import try_e164

# KMU 2010: the letters written the same wherever they stand.
_PLAIN = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "y", "і": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "'": "", "ʼ": "", "’": "", "`": "",
    # Not Ukrainian: the usual spellings, so Russian-spelt names still meet Ukrainian ones.
    "ё": "yo", "ы": "y", "э": "e", "ъ": "",
}  # fmt: skip
# KMU 2010: (at the start of a word, elsewhere).
_PLACED = {"є": ("ye", "ie"), "ї": ("yi", "i"), "й": ("y", "i"), "ю": ("yu", "iu"), "я": ("ya", "ia")}

_NOT_WORD = re.compile(r"[^a-z0-9@]+")
_PHONE_CHARS = re.compile(r"^[\d\s()+\-./]+$")
_NOT_DIGIT = re.compile(r"\D")
_NOT_CODE = re.compile(r"[^a-z0-9]")


def _is_letter(ch: str) -> bool:
    return ch != "" and (ch.isalpha() or ch in "'ʼ’`")  # the apostrophe is inside a word, not between words


def transliterate(text: str, *, starts_word: bool = True) -> str:
    """Cyrillic letters of lower-case ``text`` in Latin by KMU 2010; other characters as they are.
    ``starts_word=False``: the text is the middle of a word (a partial query such as "юк")."""
    out: list[str] = []
    previous = "" if starts_word else "а"
    for ch in text:
        placed = _PLACED.get(ch)
        if placed is not None:
            out.append(placed[1] if _is_letter(previous) else placed[0])
        elif ch == "г" and previous == "з":
            out.append("gh")
        else:
            out.append(_PLAIN.get(ch, ch))
        previous = ch
    return "".join(out)


def _fold(text: str, *, starts_word: bool = True) -> str:
    text = unicodedata.normalize("NFC", text).casefold()  # NFC first: "й" must stay one letter
    text = transliterate(text, starts_word=starts_word)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", text.replace("@", " ")).strip()


def name_text(text: str | None) -> str:
    """A name, title or subject as stored for search: "Петренко-Шевченко, ТОВ «Ромашка»" ->
    "petrenko shevchenko tov romashka"."""
    return _fold(text or "")[:300]


def name_queries(query: str) -> list[str]:
    """What a name query looks for: the query as the start of a word, and, when it begins with a
    letter whose spelling depends on its place (є ї й ю я), also as the middle of a word."""
    first = _fold(query)
    variants = [first]
    if first:
        middle = _fold(query, starts_word=False)
        if middle != first:
            variants.append(middle)
    return variants


def phone_digits(e164: str | None) -> str:
    """A stored phone's digits: "+380671234567" -> "380671234567"."""
    return _NOT_DIGIT.sub("", e164 or "")


def query_phone_digits(query: str) -> str | None:
    """The digits of a query that looks like (a part of) a phone number: digits and the usual
    separators only. None for anything else (a name, an e-mail)."""
    if not _PHONE_CHARS.match(query.strip()):
        return None
    return _NOT_DIGIT.sub("", query) or None


def query_full_phone(query: str) -> str | None:
    """The digits of the whole number, when the query is one (any format, UA by default)."""
    return phone_digits(try_e164(query)) or None


def email_text(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def code_text(code: str | None) -> str:
    """Order numbers, waybills, marketplace order ids: letters and digits, lower case
    ("20 4500 1234 5678" and "20450012345678" are the same waybill)."""
    return _NOT_CODE.sub("", (code or "").casefold())[:128]
