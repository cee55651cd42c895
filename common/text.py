import unicodedata

from django.utils.functional import keep_lazy_text
from unidecode import unidecode


def fold(text: str | None) -> str:
    """Lower-case `text` and spell it in Latin letters, so "Zoë Ñúñez" matches "zoe nunez"
    and "Łukasz Østergård" matches "lukasz ostergard" (ß → ss, æ → ae): Unidecode's tables,
    not only the accents that Unicode decomposes."""
    return " ".join(unidecode(text or "").casefold().split())


def typed_text(value: str | None, *, limit: int) -> str:
    """What a person typed into a search box, safe to send to the database: at most `limit`
    characters, without control characters (PostgreSQL refuses NUL in text) or lone
    surrogates (they cannot be encoded), spaces trimmed."""
    kept = (
        c
        for c in (value or "")[: limit * 2]
        if unicodedata.category(c) not in ("Cc", "Cs") or c in "\t\n"
    )
    return "".join(kept).strip()[:limit]


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 entry", "23 entries", "0 rows": the count and its noun as words read."""
    return f"{count} {noun(count, singular, plural_form)}"


def noun(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "column" or "columns": the words `count` things take, without the count ("the columns
    A, B"); a verb can come along ("slot holds", "slots hold")."""
    return singular if count == 1 else (plural_form or singular + "s")


@keep_lazy_text
def lowered(text: str) -> str:
    """`text` in lower case; a lazy translation stays lazy, lowered in the language it is
    read in."""
    return str(text).lower()
