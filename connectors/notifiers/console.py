"""The console: prints each message, so the embedded default shows alerts with no account."""

from __future__ import annotations

import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .base import DeliveryError, Notification, Notifier


class ConsoleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stream: Literal["stdout", "stderr"] = "stdout"


class ConsoleNotifier(Notifier):
    """Writes ``[SEVERITY] subject`` and the indented body. Not deduplicated (a console
    cannot be): a crash between printing and recording can print a message twice."""

    def __init__(self, config: ConsoleConfig | None = None) -> None:
        self.config = config or ConsoleConfig()
        self.name = "console" if self.config.stream == "stdout" else "console://stderr"

    def send(self, message: Notification) -> None:
        stream = sys.stdout if self.config.stream == "stdout" else sys.stderr
        tag = f"[{message.severity.upper()}] " if message.severity else ""
        lines = [f"{tag}{message.subject}  (to {message.recipient})"]
        lines += [f"    {line}" if line else "" for line in message.body.splitlines()]
        try:
            stream.write("\n".join(lines) + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # closed pipe or stream
            raise DeliveryError(f"cannot write to the console: {type(exc).__name__}", transient=True) from None
