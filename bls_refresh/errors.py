"""Errors a person reads. Each says what was expected, what came, and where."""

from __future__ import annotations


class PipelineError(Exception):
    """Base class: a refresh stopped for a reason a person should read."""


class ConfigError(PipelineError):
    """The run is not configured well enough to start (e.g. no contact e-mail)."""


class FetchError(PipelineError):
    """A download failed or returned something that is not the expected file."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class ValidationError(PipelineError):
    """A file parsed but failed a check; nothing from it was loaded."""

    def __init__(
        self, file: str, check: str, detail: str, examples: list[str] | None = None
    ) -> None:
        self.file = file
        self.check = check
        self.detail = detail
        self.examples = list(examples or [])[:5]
        lines = [f"{file}: check '{check}' failed: {detail}"]
        lines += [f"  e.g. {e}" for e in self.examples]
        super().__init__("\n".join(lines))


class LockHeldError(PipelineError):
    """Another refresh holds the lock on the data directory."""
