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


class CatalogError(PipelineError):
    """The warehouse catalog cannot be used as it is (unreadable, damaged, or missing while
    releases exist). It is never deleted or replaced when it may hold a release."""

    def __init__(self, message: str, *, catalog: str) -> None:
        super().__init__(message)
        self.catalog = catalog


class UnpublishedReleaseError(PipelineError):
    """A release is committed in the warehouse but not published (an interrupted run), and
    the command would race with publishing it (a rollback the recovery would undo)."""


class AnalystFileError(PipelineError):
    """``latest`` points at a published release, but ``bls.duckdb`` could not be rebuilt to
    match it (e.g. the disk filled up). The release itself is complete and published."""

    def __init__(
        self, release_id: str | None, analyst_db: str, cause: str, shows: str | None
    ) -> None:
        self.release_id = release_id
        self.analyst_db = analyst_db
        self.cause = cause
        self.shows = shows  # the release the old analyst file still shows, if any
        if release_id is None:
            head = f"{analyst_db} could not be rebuilt: {cause};"
        else:
            head = (
                f"Release {release_id} is published and latest → {release_id}, but "
                f"{analyst_db} could not be rebuilt: {cause}. Its bundle, figures.json and "
                f"`bls-refresh figure` already serve {release_id};"
            )
        still = f"release {shows}" if shows else "no usable release"
        super().__init__(
            f"{head} the analyst file still shows {still} (its half-written copy was removed). "
            "Once the cause is fixed, the next `bls-refresh run` or `ingest` rebuilds it, or "
            "`bls-refresh verify --repair` does so now."
        )
