"""One function turns a ``notify`` entry of the config into a notifier."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from . import secret_ref
from .apprise_channel import AppriseConfig, AppriseNotifier
from .base import Notifier
from .console import ConsoleConfig, ConsoleNotifier
from .outbox_file import OutboxFileConfig, OutboxFileNotifier


def make_notifier(entry: SecretStr | str, *, default_outbox: Path) -> Notifier:
    """``console`` / ``console://stderr``, ``outbox`` / ``outbox:///path/file.jsonl``, else Apprise.

    ``env:VAR`` and ``prefect-secret:block`` always mean an Apprise URL, resolved at send time.
    """
    text = secret_ref.raw(entry).strip()
    if text in ("console", "console://", "console://stdout"):
        return ConsoleNotifier(ConsoleConfig())
    if text == "console://stderr":
        return ConsoleNotifier(ConsoleConfig(stream="stderr"))
    if text in ("outbox", "outbox://"):
        return OutboxFileNotifier(OutboxFileConfig(path=default_outbox))
    if text.startswith("outbox://"):
        return OutboxFileNotifier(OutboxFileConfig(path=Path(text[len("outbox://"):]).expanduser()))
    return AppriseNotifier(AppriseConfig(url=SecretStr(text)))


def channel_of(entry: SecretStr | str) -> str:
    """The secret-free channel identity stored with each delivery."""
    text = secret_ref.raw(entry).strip()
    if text in ("console", "console://", "console://stdout"):
        return "console"
    if text in ("outbox", "outbox://"):
        return "outbox"
    if text.startswith("outbox://") or text == "console://stderr":
        return text
    return secret_ref.channel_id(text)
