"""The local outbox: every message appended to a JSON lines file, one object per line.

Each line is written with one ``write`` on a file opened ``O_APPEND`` under an
exclusive ``flock``, then fsynced, so concurrent writers never interleave and a
crash leaves at most a cut-off last line (readers skip it). The file is itself
idempotent: a message whose ``idempotency_key`` is already among the last lines
is not written again (the crash window between writing and recording the delivery).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from .base import DeliveryError, Notification, Notifier

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: O_APPEND alone
    fcntl = None  # type: ignore[assignment]

_TAIL_BYTES = 512 * 1024


class OutboxFileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path


class OutboxFileNotifier(Notifier):
    def __init__(self, config: OutboxFileConfig) -> None:
        self.config = config
        self.name = "outbox"

    def send(self, message: Notification) -> None:
        record = {
            "idempotency_key": message.idempotency_key,
            "recipient": message.recipient,
            "severity": message.severity,
            "subject": message.subject,
            "body": message.body,
            "tendon": message.payload,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str) + "\n").encode()
        marker = f'"idempotency_key":"{message.idempotency_key}"'.encode()
        path = self.config.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _locked_append(path) as fd:
                if marker in _tail(fd):
                    return
                os.write(fd, line)
                os.fsync(fd)
        except (PermissionError, IsADirectoryError, NotADirectoryError) as exc:
            raise DeliveryError(f"cannot write the outbox file {path}: {exc.strerror or exc}",
                                transient=False, hint="set [notify] outbox_file to a writable file") from None
        except OSError as exc:
            raise DeliveryError(f"cannot write the outbox file {path}: {exc.strerror or exc}",
                                transient=True) from None


@contextmanager
def _locked_append(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # releases the lock


def _tail(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    start = max(0, size - _TAIL_BYTES)
    return os.pread(fd, size - start, start)


def read_outbox(path: Path) -> list[dict[str, Any]]:
    """Every complete line of an outbox file (a cut-off last line is skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
