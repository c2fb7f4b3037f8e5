"""Where everything lives under the data directory (``--data-dir`` / ``BLS_DATA_DIR``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

DEFAULT_DATA_DIR = "data"


@dataclasses.dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def resolve(cls, data_dir: str | Path | None = None) -> DataPaths:
        chosen = data_dir or os.environ.get("BLS_DATA_DIR") or DEFAULT_DATA_DIR
        return cls(Path(chosen).expanduser().resolve())

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def catalog(self) -> Path:
        return self.warehouse / "catalog.sqlite"

    @property
    def lake_files(self) -> Path:
        return self.warehouse / "files"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def latest(self) -> Path:
        return self.published / "latest"

    @property
    def analyst_db(self) -> Path:
        return self.root / "bls.duckdb"

    @property
    def lock(self) -> Path:
        return self.root / ".refresh.lock"
