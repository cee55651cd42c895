"""The root of every refusal a person can see, and what a broken database rule was."""

import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise
else:
    StrPromise = Promise

# What a refusal says: English marked with gettext_noop, or ngettext_lazy(singular, plural,
# "param") where a count param picks the form.
Wording = str | StrPromise


class LineupError(Exception):
    """A refusal whose `message` is fit to show to the person who asked.

    Every app's own errors derive from it (`RegistrationError`, `ScheduleError`,
    `ImportFileError`, ...), and so does `Busy`: a face catches this one class.
    """

    message = "This could not be done."

    def __init__(self, message: Wording | None = None, **params: object):
        # The wording is English with `{name}` holes filled from `params`: `message` is the
        # text for staff and logs, always English, and a page writes it in its own language
        # (`translated`), so the code marks the wording with gettext_noop and passes names as
        # params. A wording that depends on a count is ngettext_lazy(singular, plural, "param"),
        # the param naming the count. Params that are words (a status, a time) are lazy, so
        # each reader gets them in the language of the sentence around them.
        self.wording = message if message is not None else self.message
        self.params = params
        with translation.override("en"):
            self.message = self._written()
        super().__init__(self.message)

    def translated(self) -> str:
        """`message` in the active language; where the catalogue lacks the wording, `message`
        itself (its params in English too: one sentence, one language)."""
        if not isinstance(self.wording, Promise) and gettext(self.wording) == self.wording:
            return self.message
        return self._written()

    def _written(self) -> str:
        """The wording in the active language, its params read in it too."""
        if isinstance(self.wording, Promise):  # a plural: the count param picks the form
            return str(self.wording.format(**self.params))
        wording = gettext(self.wording)
        return wording.format(**self.params) if self.params else wording


def unique_rule_broken(exc: IntegrityError, model: type[models.Model]) -> str | None:
    """Which of `model`'s unique rules `exc` broke: a constraint's name, or the name of a
    field declared `unique`; None if it was something else.

    PostgreSQL names the constraint; SQLite names only the columns, which are matched back to
    the model's declarations.
    """
    opts = model._meta
    unique_fields = [f for f in opts.concrete_fields if f.unique and not f.primary_key]
    diag = getattr(exc.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        unique = (c for c in opts.constraints if isinstance(c, models.UniqueConstraint))
        if any(c.name == name for c in unique):  # not a CheckConstraint's name
            return name
        for field in unique_fields:  # PostgreSQL calls it <table>_<column>_key
            if name == f"{opts.db_table}_{field.column}_key":
                return field.name
        return None
    failed = re.search(r"UNIQUE constraint failed: (.+)", str(exc))
    if not failed:
        return None
    columns = {part.strip().rsplit(".", 1)[-1] for part in failed.group(1).split(",")}
    for constraint in opts.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or not constraint.fields:
            continue
        if {getattr(opts.get_field(f), "column", None) for f in constraint.fields} == columns:
            return constraint.name
    for field in unique_fields:
        if {field.column} == columns:
            return field.name
    return None


def numbers_checked(
    model: type[models.Model], *, error: type[LineupError] = LineupError, **values: Any
) -> None:
    """Refuse numbers a column cannot hold (a small integer past 32,767 would wrap or fail in
    the database) with `error`, naming the field: services check what the forms check. Values
    of other fields are left to the model's other rules."""
    for name, value in values.items():
        if value is None or isinstance(value, models.expressions.Combinable):
            continue
        field = model._meta.get_field(name)
        if not isinstance(field, models.IntegerField):
            continue
        try:
            field.run_validators(value)
        except ValidationError as exc:
            label = str(field.verbose_name).capitalize()
            raise error(f"{label}: {' '.join(exc.messages)}") from None
