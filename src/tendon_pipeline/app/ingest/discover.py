"""Finding the files to ingest, and reading one (size limit, unreadable files)."""

from __future__ import annotations

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


def discover(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Files named directly, and ``*.fit`` files under folders (recursive, hidden skipped)."""
    found: dict[Path, SourceFile] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() == ".fit" and not _hidden(child, path):
                    found.setdefault(child.resolve(), SourceFile(child, path))
        else:
            found.setdefault(path.resolve(), SourceFile(path, None))
    return list(found.values())


def _hidden(child: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in child.relative_to(root).parts)


def read_source(source: SourceFile, max_file_mb: float) -> bytes | FileOutcome:
    """The file's bytes, or its outcome when it is too large (quarantined) or unreadable (skipped)."""
    path = str(source.path)
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
