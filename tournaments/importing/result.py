"""What a schedule import did (or would do), and the refusal that lists every bad item."""

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from common.tabular import ImportFileError
from common.text import plural

KIND_LABELS = {"tournament": "tournament", "location": "room", "time_block": "time block"}


@dataclass
class ScheduleImportResult:
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (action, what, where)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    slots_created: int = 0
    slots_removed: int = 0

    def error(self, item: Any, message: str) -> None:
        """Note a problem with an item of the file (anything with a `where`)."""
        self.errors.append(f"{item.where}: {message}")

    def record(self, kind: str, action: str, item: Any, label: str) -> None:
        """Count a create, update or unchanged item; list the changes for the command."""
        self.counts[(kind, action)] += 1
        if action != "unchanged":
            noun = {"location": "room"}.get(kind, kind.replace("_", " "))
            self.changes.append((action, f"{noun} {label}", item.where))

    def sort_errors(self) -> None:
        self.errors.sort(key=_error_order)

    def summary(self) -> str:
        """ "Created 1 tournament, 2 rooms, 4 time blocks; updated …; 3 unchanged." """
        parts = []
        for action, verb in (("create", "create"), ("update", "update")):
            items = [
                plural(self.counts[(kind, action)], label)
                for kind, label in KIND_LABELS.items()
                if self.counts[(kind, action)]
            ]
            if items:
                word = f"would {verb}" if self.dry_run else f"{verb}d"
                parts.append(f"{word} {', '.join(items)}")
        unchanged = sum(n for (_, action), n in self.counts.items() if action == "unchanged")
        parts.append(f"{unchanged} unchanged")
        if self.slots_created or self.slots_removed:
            word = "would generate" if self.dry_run else "generated"
            text = f"{word} {plural(self.slots_created, 'slot')}"
            if self.slots_removed:
                text += f" and remove {self.slots_removed}"
            parts.append(text)
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."


class ScheduleImportInvalid(ImportFileError):
    """Some items are bad: nothing was written. `result.errors` lists them."""

    def __init__(self, result: ScheduleImportResult):
        self.result = result
        outcome = "the import would stop" if result.dry_run else "nothing was imported"
        super().__init__(f"{plural(len(result.errors), 'problem')} found, so {outcome}.")


_LIST_ORDER = {"Line": 0, "tournaments": 1, "locations": 2, "time_blocks": 3}


def _error_order(message: str) -> tuple[int, int]:
    """CSV errors by line; JSON errors by list and position (the sort is stable)."""
    found = re.match(r"(Line|tournaments|locations|time_blocks) #?(\d+)", message)
    return (_LIST_ORDER[found.group(1)], int(found.group(2))) if found else (9, 0)
