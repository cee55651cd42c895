"""The columns a participant list may have, and how its header maps onto them."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models

from common.tabular import ImportFileError, normalize_heading
from participants.models import Participant, Team


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False
    help: str = ""


COLUMNS = (
    Column(
        "external_id",
        "External ID",
        ("external id", "id", "participant id", "student id", "member id", "ext id"),
        help="Identifier in the system the list comes from; the key for updates.",
    ),
    Column(
        "first_name",
        "First name",
        ("first name", "firstname", "first", "given name", "forename"),
        required=True,
    ),
    Column(
        "last_name",
        "Last name",
        ("last name", "lastname", "last", "surname", "family name"),
        required=True,
    ),
    Column(
        "display_name",
        "Display name",
        ("display name", "stage name", "preferred name", "nickname"),
    ),
    Column("birth_year", "Birth year", ("birth year", "year of birth", "born", "yob")),
    Column(
        "birth_date",
        "Birth date",
        ("birth date", "date of birth", "birthdate", "dob", "birthday"),
        help="YYYY-MM-DD, DD.MM.YYYY or DD/MM/YYYY; only the year is stored.",
    ),
    Column(
        "age",
        "Age",
        ("age", "age in years", "years old"),
        help="Whole years; kept as given, with the day of the import (no birth year is "
        "worked out from it).",
    ),
    Column("grade", "Grade", ("grade", "class", "year group", "form")),
    Column("school", "School", ("school", "school name", "institution")),
    Column("team", "Team", ("team", "team name"), help="Created if it does not exist yet."),
    Column("coach_name", "Coach name", ("coach", "coach name"), help="For new teams."),
    Column("coach_email", "Coach e-mail", ("coach email", "coach e mail"), help="For new teams."),
    Column("coach_phone", "Coach phone", ("coach phone", "coach telephone"), help="For new teams."),
    Column(
        "contact_name",
        "Contact name",
        ("contact", "contact name", "parent", "parent name", "guardian"),
        help="Registration contact (with a tournament).",
    ),
    Column(
        "contact_email",
        "Contact e-mail",
        ("contact email", "contact e-mail", "email", "e-mail", "parent email", "parent e-mail"),
        help="Registration contact (with a tournament).",
    ),
    Column(
        "contact_phone",
        "Contact phone",
        ("contact phone", "phone", "telephone", "mobile", "parent phone"),
        help="Registration contact (with a tournament).",
    ),
)
# The reject file's own columns: a fixed reject file imports without a warning about them.
REJECT_FILE_HEADINGS = {"line", "error"}
# Aliases are compared the way headings are ("Contact e-mail" → "contact e mail").
_BY_ALIAS = {normalize_heading(alias): column for column in COLUMNS for alias in column.aliases}

# Read and checked here, used only by an import that also registers (registrations/importing.py).
CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
# The lengths of the registration's contact fields: this package may not import registrations,
# so a test (tests/participants/test_importing_layers.py) keeps the two in step.
CONTACT_LIMITS = {"contact_name": 200, "contact_phone": 40}


def _max_length(model: type[models.Model], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


TEXT_LIMITS = {
    **{
        name: _max_length(Participant, name)
        for name in ("external_id", "first_name", "last_name", "display_name", "grade", "school")
    },
    "team": _max_length(Team, "name"),
    "coach_name": _max_length(Team, "coach_name"),
    "coach_phone": _max_length(Team, "coach_phone"),
    **CONTACT_LIMITS,
}


def map_columns(header: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """Column positions by field name, and warnings about headings that were not used.

    Raises ImportFileError for a heading used twice or a missing required column.
    """
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    for index, heading in enumerate(header):
        if not heading:
            continue
        column = _BY_ALIAS.get(normalize_heading(heading))
        if column is None:
            if normalize_heading(heading) not in REJECT_FILE_HEADINGS:
                ignored.append(heading)
        elif column.field in positions:
            raise ImportFileError(
                f"the columns “{labels[column.field]}” and “{heading}” both mean "
                f"{column.label.lower()}; keep one of them.",
                line=None,
            )
        else:
            positions[column.field] = index
            labels[column.field] = heading
    missing = [c.label.lower() for c in COLUMNS if c.required and c.field not in positions]
    if missing:
        raise ImportFileError(
            f"the header has no {' and no '.join(missing)} column (found: "
            f"{', '.join(h for h in header if h) or 'nothing'})."
        )
    warnings = []
    if ignored:
        these = "a column" if len(ignored) == 1 else "columns"
        warnings.append(f"Ignored {these} this import does not know: {', '.join(ignored)}.")
    return positions, warnings
