"""HTTP upload source: ``tendon serve-api``, a small authenticated endpoint for FIT files.

``POST /v1/files`` (the athlete is the token's) or ``POST /v1/athletes/{athlete}/files``
(checked against the token), body = the raw FIT file::

    curl -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/octet-stream" \\
         --data-binary @run.fit http://127.0.0.1:8765/v1/files

Answers ``201 {"ingest_id", "athlete", "bytes", "sha256", "file"}``: the file is durably
in ``INBOX/<athlete>/<ingest_id>.fit`` and queued; ingest, rules and notifications follow
in the same process on the watcher's single writer thread (or, with ``--land-only``, in
a separate ``tendon watch`` over the same inbox). The ingest id names the arrival: it is
the file name, so ``tendon files`` shows what became of it.

Refusals: no or unknown token 401 (``WWW-Authenticate: Bearer``), token for another
athlete 403, malformed athlete id 400 (ids are ``[A-Za-z0-9][A-Za-z0-9_.-]{0,63}``, never
``..``; the file name is always a server-side uuid, never user input), wrong content type
415, larger than ``upload.max_mb`` 413 (from ``Content-Length`` before reading, and
while streaming for chunked bodies), not a FIT file 422. Tokens are compared in constant
time (``hmac.compare_digest`` of SHA-256 digests, every configured token each time).
The body is streamed to a hidden temporary file in the athlete's folder, fsynced and
renamed into place, so the watcher never sees a partial upload.

Slow clients cannot hold a connection: the request's headers must arrive within
``upload.header_timeout_s`` (else the connection gets 408 and is closed, also between
keep-alive requests) and the body within ``upload.body_timeout_s`` (else 408, the partial
file is removed and the connection closed). An upload is removed from the inbox once the
warehouse holds it (ingested, salvaged or a duplicate; ``upload.keep_uploads`` keeps them);
quarantined or skipped uploads stay for inspection. A port in use or a host that cannot be
bound is a :class:`ConfigError` (exit 2), not a traceback.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tendon_pipeline.connectors.sources.base import Arrival, Emit, fit_header, new_arrival_id
from tendon_pipeline.connectors.sources.config import ATHLETE_PATTERN, UploadSettings, UploadToken
from tendon_pipeline.errors import ConfigError

_log = logging.getLogger(__name__)
ATHLETE_ID = re.compile(ATHLETE_PATTERN)
FIT_CONTENT_TYPES = {"application/octet-stream", "application/vnd.ant.fit", "application/fit", "application/x-fit"}


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_app(upload: UploadSettings, inbox: Path, submit: Callable[[Arrival], Any] | None = None):
    """The FastAPI app. ``submit`` receives each landed file's Arrival (None: land only)."""
    inbox = Path(inbox).expanduser().resolve()
    limit = int(upload.max_mb * 1024 * 1024)
    app = FastAPI(title="tendon-pipeline upload", version="1", docs_url=None, redoc_url=None, openapi_url=None)

    def problem(status: int, message: str, **headers: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status, headers=headers or None)

    def authenticate(request: Request) -> UploadToken | None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        return upload.find(presented.strip())

    async def receive(request: Request, athlete: str | None) -> JSONResponse:
        token = authenticate(request)
        if token is None:
            return problem(401, "missing or unknown bearer token", **{"WWW-Authenticate": "Bearer"})
        if athlete is not None:
            if not ATHLETE_ID.fullmatch(athlete):
                return problem(400, "malformed athlete id")
            if athlete != token.athlete:
                return problem(403, "this token is not for that athlete")
        athlete = token.athlete
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in FIT_CONTENT_TYPES:
            return problem(415, f"send the raw FIT file as one of {sorted(FIT_CONTENT_TYPES)}")
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return problem(400, "bad Content-Length")
            if int(declared) > limit:
                return problem(413, f"file larger than the {upload.max_mb:g} MB limit")
        folder = (inbox / athlete).resolve()
        if folder.parent != inbox:  # defence in depth; the id pattern already excludes this
            return problem(400, "malformed athlete id")
        folder.mkdir(parents=True, exist_ok=True)
        arrival_id = new_arrival_id()
        tmp = folder / f".upload-{arrival_id}.part"
        final = folder / f"{arrival_id}.fit"
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with tmp.open("wb") as handle:
                try:
                    async with asyncio.timeout(upload.body_timeout_s):
                        async for chunk in request.stream():
                            if not chunk:
                                continue
                            size += len(chunk)
                            if size > limit:
                                return problem(413, f"file larger than the {upload.max_mb:g} MB limit")
                            if len(head) < 14:
                                head += chunk[: 14 - len(head)]
                            digest.update(chunk)
                            handle.write(chunk)
                except TimeoutError:
                    return problem(408, f"the upload did not arrive within {upload.body_timeout_s:g} s"
                                        " (upload.body_timeout_s); nothing was kept, send it again",
                                   Connection="close")
                if fit_header(head) is None:
                    return problem(422, "not a FIT file (no FIT header)")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, final)
            _fsync_dir(folder)
        except OSError as exc:
            _log.error("cannot store an upload in %s: %s", folder, exc)
            return problem(507, "cannot store the file")
        finally:
            tmp.unlink(missing_ok=True)
        arrival = Arrival.for_file(final, source="http", athlete_id=athlete, arrival_id=arrival_id,
                                   sha256=digest.hexdigest(), device=token.device)
        if submit is not None:
            submit(arrival)
        return JSONResponse({"ingest_id": arrival_id, "athlete": athlete, "bytes": size,
                             "sha256": digest.hexdigest(), "file": f"{athlete}/{final.name}"}, status_code=201)

    @app.post("/v1/files")
    async def upload_file(request: Request):
        return await receive(request, None)

    @app.post("/v1/athletes/{athlete}/files")
    async def upload_athlete_file(athlete: str, request: Request):
        return await receive(request, athlete)

    @app.get("/healthz")
    async def health():
        return {"ok": True}

    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port; read it from ``getsockname()``); a port in use,
    an address not on this machine or a host that does not resolve is a ConfigError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except socket.gaierror as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: the host does not resolve ({exc.strerror})",
                          hint="give --host an address of this machine, e.g. 127.0.0.1 or 0.0.0.0") from None
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          hint="choose another --port (or stop what uses it), or a --host address of this machine"
                          ) from None
    except OverflowError:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: the port must be 0-65535") from None
    sock.set_inheritable(True)
    return sock


_TIMEOUT_BODY = b'{"error": "the request headers did not arrive in time (upload.header_timeout_s)"}'
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n\r\n" + _TIMEOUT_BODY)


def header_timeout_protocol(header_timeout_s: float) -> type:
    """uvicorn's h11 protocol with a deadline for each request's headers: from the connection (or
    the first byte after a keep-alive response) to the complete request line and headers."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        _timer: asyncio.TimerHandle | None = None
        _waiting = True  # for a request's headers

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._waiting and self._timer is None:
                self._arm()
            cycle = self.cycle
            super().data_received(data)
            if self.cycle is not cycle and self.cycle is not None:  # a request's headers are in
                self._waiting = False
                self._disarm()

        def on_response_complete(self) -> None:
            self._waiting = True  # the next request's clock starts at its first byte
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._timer = self.loop.call_later(header_timeout_s, self._too_slow)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _too_slow(self) -> None:
            self._timer = None
            if self._waiting and not self.transport.is_closing():
                self.transport.write(_TIMEOUT_RESPONSE)
                self.transport.close()

    return HeaderTimeoutProtocol


class HttpUploadSource:
    """The upload endpoint as a :class:`~.base.Source`: ``run`` serves until ``stop`` is set."""

    name = "http"

    def __init__(self, upload: UploadSettings, inbox: Path, *, host: str = "127.0.0.1", port: int = 8765,
                 land_only: bool = False, extend: Callable[[FastAPI], Any] | None = None) -> None:
        self.upload = upload
        self.inbox = Path(inbox)
        self.land_only = land_only
        self.extend = extend  # adds more routes to the app (tendon serve: the web pages)
        self.sock = bind(host, port)
        self.host, self.port = self.sock.getsockname()[:2]
        self.started = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self, emit: Emit, stop: threading.Event) -> None:
        import uvicorn

        app = create_app(self.upload, self.inbox, None if self.land_only else emit)
        if self.extend is not None:
            self.extend(app)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                               server_header=False, timeout_graceful_shutdown=5,
                                               http=header_timeout_protocol(self.upload.header_timeout_s)))

        def watch_stop() -> None:
            while not stop.wait(0.2):
                if server.started:
                    self.started.set()
            server.should_exit = True

        threading.Thread(target=watch_stop, name="tendon-http-stop", daemon=True).start()
        try:
            server.run(sockets=[self.sock])
        finally:
            self.sock.close()
