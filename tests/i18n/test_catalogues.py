"""The committed catalogues match the code: nothing to translate is missing or left over, no
French or Spanish entry is empty or fuzzy, and the compiled .mo files are current."""

import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

LOCALE = Path(settings.BASE_DIR) / "locale"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# The same folders `make messages` leaves out: the venv, tests, tools, and the admin's
# templates (the admin follows Django's own catalogues).
IGNORE = [".venv", "tests", "bench", "ops", "docs", "var", "test-artifacts", "templates/admin"]


def _keys(po: polib.POFile) -> set[tuple[str, str, str]]:
    return {(e.msgctxt or "", e.msgid, e.msgid_plural or "") for e in po if not e.obsolete}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """makemessages run now on a copy of the code, so locale/ is never touched."""
    if shutil.which("xgettext") is None:
        pytest.fail("The catalogue test needs GNU gettext: `make test` installs it.")
    copy = tmp_path_factory.mktemp("code") / "lineup"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(".*", "locale", "__pycache__", *IGNORE),
    )
    (copy / "locale").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(copy)
        patch.setattr(settings, "LOCALE_PATHS", [str(copy / "locale")])
        call_command(
            "makemessages", locale=["fr"], ignore_patterns=IGNORE, no_location=True, verbosity=0
        )
    return polib.pofile(str(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_has_every_string_of_the_code_and_no_other(fresh, language):
    committed = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    missing = _keys(fresh) - _keys(committed)
    stale = _keys(committed) - _keys(fresh)
    assert not missing, f"not in locale/{language} (run `make messages`): {sorted(missing)}"
    assert not stale, f"no longer in the code (run `make messages`): {sorted(stale)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language):
    po = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert not po.metadata_is_fuzzy
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert po.percent_translated() == 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_the_po_file(language):
    folder = LOCALE / language / "LC_MESSAGES"
    compiled = polib.mofile(str(folder / "django.mo"))
    po = polib.pofile(str(folder / "django.po"))
    as_compiled = {(e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in compiled}
    as_written = {
        (e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in po.translated_entries()
    }
    assert as_written <= as_compiled, "run `make messages` (compilemessages) and commit the .mo"


def test_the_checker_sees_a_missing_string(fresh):
    # The negative control: a catalogue without one of the code's strings is reported.
    committed = polib.pofile(str(LOCALE / "fr" / "LC_MESSAGES" / "django.po"))
    dropped = next(e for e in committed if e.msgid == "Sign up")
    committed.remove(dropped)
    assert ("", "Sign up", "") in _keys(fresh) - _keys(committed)
