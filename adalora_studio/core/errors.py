"""Errors the core raises for problems a user can fix. Each carries enough context to name the culprit."""

from __future__ import annotations


class StudioError(Exception):
    """Base class for every user-facing error raised by the core."""

    def user_message(self) -> str:
        """The message to show a person (one or a few lines, no traceback)."""
        return str(self)


class ConfigError(StudioError):
    """A configuration field is invalid. ``field`` is its dotted path, e.g. ``budget.target_r``."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class ConfigErrors(StudioError):
    """Several configuration problems at once (validation reports all it finds)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class DataError(StudioError):
    """A dataset problem, naming the file and, where it applies, the row (1-based, as a user counts) and column."""

    def __init__(self, message: str, file: str = "", row: int | None = None, column: str | None = None) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        where = []
        if file:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ModelError(StudioError):
    """A model cannot be found, loaded or adapted."""


class RunError(StudioError):
    """A run folder problem: missing, locked by another process, or unreadable."""
