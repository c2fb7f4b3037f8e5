"""Where files come from: real BLS hosts, or a mirror laid out with the hosts as folders.

A mirror (folder or URL) holds ``download.bls.gov/pub/time.series/oe/oe.series``,
``www.bls.gov/emp/ind-occ-matrix/occupation.xlsx`` and so on, exactly as on BLS.

A mirror folder is someone else's directory tree, read as if it were a server: a symbolic
link inside it may point to another file of the mirror (followed), never out of it. A link
that resolves outside the folder (``oe.area -> /etc/passwd``) is refused before a byte is
read, so nothing outside the mirror can end up in the raw store or a release. (A file given
to ``bls-refresh ingest`` is the user's own choice and may be a link anywhere.)
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from core.errors import FetchError


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
            return str(self._inside_mirror(Path(self.base) / host / path))
        return f"{self.base.rstrip('/')}/{host}/{path}"

    def _inside_mirror(self, candidate: Path) -> Path:
        """``candidate`` if it (following every link) stays inside the mirror folder."""
        root = Path(str(self.base)).resolve()
        real = candidate.resolve()  # not strict: a missing file is the fetcher's 404
        if real.is_relative_to(root):
            return candidate
        if candidate.is_symlink():
            target = os.readlink(candidate)
            how = f"is a symbolic link to {target}"
            how += "" if target == str(real) else f" (resolving to {real})"
        else:
            how = f"lies under a symbolic link and resolves to {real}"
        # Status 403, as a web server that does not follow links out of its root answers:
        # not a transient failure, so nothing retries it.
        raise FetchError(
            f"{candidate}: {how}, outside the mirror folder {root}; "
            "refusing to read it (links inside the mirror are followed, links out of it never "
            "are). Replace the link with the file itself, or point it inside the mirror.",
            url=candidate.as_uri(),
            status=403,
        )

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
