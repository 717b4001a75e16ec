"""A loopback intervals.icu API (v1) following its documented requests and responses.

- auth: HTTP basic, user ``API_KEY`` and the athlete's key; or ``Authorization: Bearer``
  with an OAuth token; anything else 401 (``{"status": 401, "error": ...}``);
- ``GET /api/v1/athlete/{id}``: the athlete; another athlete's id 403;
- ``GET /api/v1/athlete/{id}/activities?oldest=&newest=&limit=``: activities whose
  ``start_date_local`` lies in [oldest, newest], newest first, at most ``limit``;
- ``GET /api/v1/activity/{id}/file``: the original file, gzip'd; 404 when none.

Faults are queued per path fragment: ``fail("/file", 429, retry_after="1")``,
``fail("/activities", 503)``, ``slow("/file", 2.0)``.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Activity:
    id: str
    start_local: datetime
    fit: bytes | None
    type: str = "Run"


@dataclass
class Athlete:
    id: str
    api_key: str | None = None
    bearer: str | None = None
    activities: list[Activity] = field(default_factory=list)

    def add(self, n: int, start_local: datetime, fit: bytes | None) -> Activity:
        activity = Activity(f"i{9000 + n}", start_local, fit)
        self.activities.append(activity)
        return activity


class IntervalsServer:
    def __init__(self) -> None:
        self.athletes: dict[str, Athlete] = {}
        self.requests: list[tuple[str, dict[str, list[str]], str]] = []  # (path, query, auth scheme)
        self.faults: list[tuple[str, int, dict[str, str], float]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> IntervalsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def athlete(self, athlete_id: str, **auth: str) -> Athlete:
        self.athletes[athlete_id] = Athlete(athlete_id, **auth)
        return self.athletes[athlete_id]

    def fail(self, fragment: str, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.faults.extend([(fragment, status, headers, 0.0)] * times)

    def slow(self, fragment: str, seconds: float) -> None:
        self.faults.append((fragment, 0, {}, seconds))

    def paths(self, fragment: str = "") -> list[str]:
        return [p for p, _, _ in self.requests if fragment in p]

    # -- request handling ---------------------------------------------------------------
    def _fault(self, path: str) -> tuple[int, dict[str, str], float] | None:
        with self._lock:
            for i, (fragment, status, headers, delay) in enumerate(self.faults):
                if fragment in path:
                    del self.faults[i]
                    return status, headers, delay
        return None

    def _who(self, authorization: str) -> Athlete | None:
        scheme, _, value = authorization.partition(" ")
        for athlete in self.athletes.values():
            if (scheme == "Basic" and athlete.api_key
                    and base64.b64decode(value).decode() == f"API_KEY:{athlete.api_key}"):
                return athlete
            if scheme == "Bearer" and athlete.bearer and value == athlete.bearer:
                return athlete
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps({"status": status, "error": message}).encode(), headers=headers)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                auth = self.headers.get("Authorization", "")
                server.requests.append((parts.path, query, auth.partition(" ")[0]))
                fault = server._fault(parts.path)
                if fault is not None:
                    status, headers, delay = fault
                    time.sleep(delay)
                    if status:
                        return self._error(status, "injected", headers)
                who = server._who(auth)
                if who is None:
                    return self._error(401, "Unauthorized")
                segments = parts.path.strip("/").split("/")
                if segments[:3] == ["api", "v1", "athlete"] and len(segments) in (4, 5):
                    if segments[3] != who.id:
                        return self._error(403, "Access denied")
                    if len(segments) == 4:
                        return self._send(200, json.dumps({"id": who.id, "name": "Test Runner"}).encode())
                    if segments[4] == "activities":
                        return self._activities(who, query)
                if segments[:3] == ["api", "v1", "activity"] and len(segments) == 5 and segments[4] == "file":
                    return self._file(who, segments[3])
                return self._error(404, "Not Found")

            def _activities(self, who: Athlete, query: dict[str, list[str]]) -> None:
                if "oldest" not in query:
                    return self._error(422, "oldest is required")
                oldest = datetime.fromisoformat(query["oldest"][0])
                newest = datetime.fromisoformat(query["newest"][0]) if "newest" in query else datetime.max
                if newest.time() == datetime.min.time() and len(query.get("newest", ["x"])[0]) == 10:
                    newest += timedelta(days=1) - timedelta(seconds=1)  # a date means the whole day
                found = sorted((a for a in who.activities if oldest <= a.start_local <= newest),
                               key=lambda a: a.start_local, reverse=True)
                if "limit" in query:
                    found = found[: int(query["limit"][0])]
                body = [{"id": a.id, "start_date_local": a.start_local.isoformat(),
                         "start_date": a.start_local.isoformat() + "Z", "type": a.type, "icu_athlete_id": who.id}
                        for a in found]
                self._send(200, json.dumps(body).encode())

            def _file(self, who: Athlete, activity_id: str) -> None:
                activity = next((a for a in who.activities if a.id == activity_id), None)
                if activity is None or activity.fit is None:
                    return self._error(404, "Not Found")
                self._send(200, gzip.compress(activity.fit), "application/octet-stream",
                           {"Content-Disposition": f'attachment; filename="{activity_id}.fit.gz"'})

        return Handler
