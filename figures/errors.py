"""The one error of the figures package: a figure that cannot be given, and why."""

from __future__ import annotations


class FigureError(Exception):
    """A figure cannot be given; ``choices`` are the closest valid values, if any. ``code``
    is the exit code the CLI gives it: 2 for a wrong request, 3 for a value BLS did not
    publish."""

    def __init__(self, message: str, choices: list[str] | None = None, code: int = 2) -> None:
        super().__init__(message)
        self.choices = choices or []
        self.code = code

    def line(self) -> str:
        text = str(self)
        if self.choices:
            text += f" Did you mean: {', '.join(self.choices)}?"
        return text
