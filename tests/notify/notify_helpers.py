"""Helpers for the notification tests: loopback receivers (HTTP webhook, SMTP) and rows."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 25, 12, 0)  # a Wednesday, 12:00 UTC


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class WebhookReceiver:
    """A JSON webhook receiver. ``script`` holds status codes to answer first (then 200);
    ``stop()`` / ``start()`` simulate a receiver that is down (connection refused)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.script: deque[int] = deque()
        self.status_by_path: dict[str, int] = {}
        self.on_post: Any = None  # called (in the server thread) before answering
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if receiver.on_post is not None:
                    receiver.on_post()
                with receiver._lock:
                    status = receiver.status_by_path.get(self.path) or (
                        receiver.script.popleft() if receiver.script else 200)
                    if status == 200:
                        receiver.received.append(Received(self.path, dict(self.headers), json.loads(raw)))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str = "/hook", scheme: str = "json", auth: str = "") -> str:
        return f"{scheme}://{auth}127.0.0.1:{self.port}{path}"

    def keys(self, path: str | None = None) -> list[str]:
        return [r.body["idempotency_key"] for r in self.received if path is None or r.path == path]

    def alert_keys(self, path: str | None = None) -> list[str]:
        return [a["alert_key"] for r in self.received if path is None or r.path == path
                for a in r.body["tendon"]["alerts"]]


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    content: str


@dataclass
class SmtpReceiver:
    """An SMTP server (aiosmtpd) with AUTH over plain SMTP; refuses ``nobody@`` recipients.
    ``stop()`` / ``start()`` simulate a server that is down (connection refused)."""

    port: int
    user: str
    password: str
    messages: list[Mail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    controller: Any = None

    def start(self) -> SmtpReceiver:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.startswith("nobody@"):
                    return "550 5.1.1 no such mailbox"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                receiver.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos),
                                              envelope.content.decode("utf-8", "replace")))
                return "250 Message accepted"

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == receiver.user \
                and auth_data.password.decode() == receiver.password
            if ok:
                receiver.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     authenticator=authenticator, auth_require_tls=False)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def make_settings(tmp_path: Path, **fields: Any):
    """Settings in tmp_path; console off unless asked, outbox file in tmp_path."""
    from tendon_pipeline.config.settings import Settings

    notify = {"console": False, "outbox_file": str(tmp_path / "outbox.jsonl"), **fields.pop("notify", {})}
    return Settings(db=tmp_path / "warehouse.duckdb", inbox=tmp_path / "inbox", notify=notify, **fields)


def add_alert(wh, athlete: str = "ana", rule: str = "weekly_volume_increase", severity: str = "warning",
              day: date = date(2026, 11, 16), period: str | None = None, message: str | None = None,
              evidence: dict[str, Any] | None = None, evaluation: str = "eval-1") -> str:
    period = period or day.isoformat()
    key = f"{athlete}:{rule}:{period}"
    wh.con.execute(
        "INSERT INTO alerts (alert_key, athlete_id, rule, severity, alert_date, period, message, evidence,"
        " source, evaluation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [key, athlete, rule, severity, day, period,
         message or f"{athlete} ran 42.0 km in the week, 38 % more than the 30.4 km before.",
         json.dumps(evidence if evidence is not None else {"week_km": 42.0, "previous_week_km": 30.4,
                                                           "increase_pct": 38}),
         "Nielsen et al. 2014", evaluation])
    return key


def add_plan(wh, athlete: str = "ana", week: date = date(2026, 11, 30), status: str = "cut",
             low: float = 24.0, high: float = 28.0, cap: float = 9.0, reasons: list[str] | None = None) -> None:
    plan = {"athlete_id": athlete, "week_start": week.isoformat(), "status": status, "target_km_low": low,
            "target_km_high": high, "long_run_cap_km": cap, "cross_training_sessions": 1,
            "tendon_sessions_per_week": 3, "tendon_sessions": [], "program_week": 2,
            "reasons": reasons or ["distance rose 38 %"]}
    wh.con.execute(
        "INSERT OR REPLACE INTO plans (athlete_id, week_start, status, target_km_low, target_km_high,"
        " long_run_cap_km, plan, reasons, evaluation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [athlete, week, status, low, high, cap, json.dumps(plan), json.dumps(plan["reasons"]), "eval-1"])
