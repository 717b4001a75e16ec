"""Files the upload endpoint lands in the inbox, and their retention (no web framework imported here:
the watcher uses this too)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from tendon_pipeline.connectors.sources.config import UploadSettings

_log = logging.getLogger(__name__)

UPLOAD_NAME = re.compile(r"^[0-9a-f]{16}\.fit$")  # INBOX/<athlete>/<arrival id>.fit, named by this server
STORED_STATUSES = ("ingested", "salvaged", "duplicate")  # the warehouse holds the file's content


def is_upload(path: Path, inbox: Path) -> bool:
    """A file this endpoint landed: ``INBOX/<athlete>/<16 hex digits>.fit``."""
    path, inbox = Path(path), Path(inbox).expanduser()
    return bool(UPLOAD_NAME.match(path.name)) and path.parent.parent.resolve() == inbox.resolve()


def release_uploads(outcomes, upload: UploadSettings, inbox: Path) -> list[Path]:
    """Remove the uploads the warehouse now holds from the inbox (``keep_uploads`` keeps them);
    quarantined and skipped ones stay for inspection. Returns what was removed."""
    if upload.keep_uploads:
        return []
    removed = []
    for outcome in outcomes:
        path = Path(outcome.path)
        if outcome.status in STORED_STATUSES and is_upload(path, inbox):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                _log.warning("cannot remove the stored upload %s: %s", path, exc.strerror or exc)
                continue
            removed.append(path)
    return removed
