"""Where files come from: real BLS hosts, or a mirror laid out with the hosts as folders.

A mirror (folder or URL) holds ``download.bls.gov/pub/time.series/oe/oe.series``,
``www.bls.gov/emp/ind-occ-matrix/occupation.xlsx`` and so on, exactly as on BLS.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Source:
    """A base that turns ``(host, path)`` into something ``Fetcher.fetch`` accepts."""

    base: str | None = None  # None = the real BLS hosts over HTTPS

    @property
    def is_real_bls(self) -> bool:
        return self.base is None

    @property
    def is_folder(self) -> bool:
        return self.base is not None and not self.base.startswith(("http://", "https://"))

    def locate(self, host: str, path: str) -> str:
        if self.base is None:
            return f"https://{host}/{path}"
        if self.is_folder:
            return str(Path(self.base) / host / path)
        return f"{self.base.rstrip('/')}/{host}/{path}"

    def describe(self) -> str:
        if self.base is None:
            return "BLS (https://download.bls.gov, https://www.bls.gov)"
        return f"mirror {self.base}"

    @classmethod
    def from_arg(cls, arg: str | Path | None) -> Source:
        if arg is None:
            return cls(None)
        text = str(arg)
        if text.startswith(("http://", "https://")):
            return cls(text)
        folder = Path(text).expanduser().resolve()
        if not folder.is_dir():
            raise FileNotFoundError(f"--source {text}: not a folder or http(s) URL")
        return cls(str(folder))
