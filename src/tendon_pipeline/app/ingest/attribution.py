"""Whose file is it: the athlete given, the INBOX/<athlete>/ folder, else the device serial."""

from __future__ import annotations

from tendon_pipeline.app.ingest.discover import RealPaths, SourceFile
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.ids import athlete_id_problem
from tendon_pipeline.fit.decode import DecodedActivity


def athlete_from_folder(source: SourceFile, settings: Settings, real_paths: RealPaths | None = None) -> str | None:
    """Under the configured inbox, ``INBOX/<athlete>/.../file.fit`` whatever folder was named
    (``tendon ingest INBOX/ana`` keeps ``INBOX/ana/2024/x.fit`` ana's); elsewhere
    ``ROOT/<athlete>/.../file.fit`` for a folder ROOT that was named. ``real_paths``: resolved
    folders kept across the files of one run."""
    if source.root is None:
        return None
    real_paths = real_paths or RealPaths()
    inbox = real_paths.folder(settings.inbox.expanduser())
    path = real_paths(source.path)
    if path.is_relative_to(inbox) and len(under_inbox := path.relative_to(inbox).parts) >= 2:
        return under_inbox[0]
    parts = source.path.relative_to(source.root).parts
    return parts[0] if len(parts) >= 2 else None


def athlete_problem(athlete: str | None, decoded: DecodedActivity) -> str | None:
    """Why the activity cannot be stored for ``athlete`` (none found, or not a valid id); None if it can."""
    if athlete is None:
        serial = decoded.serial_number
        return ("cannot tell whose activity this is: pass --athlete, put the file in INBOX/<athlete>/, "
                f"or list device serial {serial} under an athlete's `devices` in the config")
    return athlete_id_problem(athlete)
