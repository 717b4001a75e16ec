"""Finding the files to ingest, and reading one (size limit, unreadable files)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tendon_pipeline.app.ingest.report import FileOutcome
from tendon_pipeline.domain.models import FileStatus


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest and the folder it was found under (for INBOX/<athlete>/ naming)."""

    path: Path
    root: Path | None = None

    @property
    def text(self) -> str:
        """The path as stored and shown (see :func:`path_text`)."""
        return path_text(self.path)


def path_text(path: Path | str) -> str:
    """A path as the warehouse stores it and reports show it: always valid UTF-8. Bytes of a
    file name that are not UTF-8 (a Latin-1 name from an old sync tool, a mangled copy) are
    shown as ``\\xNN`` escapes; the file itself is read by its real name."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def path_from_text(text: str | Path) -> Path:
    """The file a :func:`path_text` names (an event, a report, ``tendon files``): the path
    itself when it exists, else with its ``\\xNN`` escapes turned back into bytes."""
    path = Path(text).expanduser()
    if path.exists() or "\\x" not in str(text):
        return path
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), os.fsencode(path))
    return Path(os.fsdecode(raw))


class RealPaths:
    """``Path.resolve()`` for many files, each folder resolved once: a file that is not itself a
    link is its folder's real path plus its name (a link is resolved in full). For one run: a
    folder replaced by a link later is not seen."""

    def __init__(self) -> None:
        self._folders: dict[Path, Path] = {}

    def folder(self, path: Path) -> Path:
        real = self._folders.get(path)
        if real is None:
            real = self._folders[path] = path.resolve()
        return real

    def __call__(self, path: Path) -> Path:
        if path.name in ("", ".", "..") or path.is_symlink():
            return path.resolve()
        return self.folder(path.parent) / path.name


def discover(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Files named directly, and ``*.fit`` files under folders (recursive, hidden skipped)."""
    found: dict[Path, SourceFile] = {}
    real = RealPaths()
    for raw in paths:
        path = path_from_text(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.suffix.lower() == ".fit" and child.is_file() and not _hidden(child, path):
                    found.setdefault(real(child), SourceFile(child, path))
        else:
            found.setdefault(real(path), SourceFile(path, None))
    return list(found.values())


def _hidden(child: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in child.relative_to(root).parts)


def read_source(source: SourceFile, max_file_mb: float) -> bytes | FileOutcome:
    """The file's bytes, or its outcome when it is too large (quarantined) or unreadable (skipped)."""
    path = source.text
    limit = int(max_file_mb * 1024 * 1024)
    try:
        size = source.path.stat().st_size
        if size > limit:
            return FileOutcome(path, FileStatus.QUARANTINED, reason_code="too_large",
                               reason=f"file is {size / 1e6:.1f} MB, over the {max_file_mb:g} MB limit (max_file_mb)")
        return source.path.read_bytes()
    except OSError as exc:
        return FileOutcome(path, FileStatus.SKIPPED, reason_code="unreadable",
                           reason=f"cannot read the file: {exc.strerror or exc}")
