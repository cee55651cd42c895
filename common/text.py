import unicodedata


def fold(text: str | None) -> str:
    """Lower-case `text` and strip accents, so "Zoë Ñúñez" matches "zoe nunez"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())
