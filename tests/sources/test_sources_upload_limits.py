"""Issue 14 item 8: the upload server against slow clients (real sockets on loopback), what it keeps
in the inbox, a `tendon files` row for every upload, and clean errors for a port in use or a bad host."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.connectors.sources.config import UploadSettings, UploadToken
from tendon_pipeline.connectors.sources.http_upload import HttpUploadSource
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.warehouse.store import open_warehouse

TOKEN = "ana-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/octet-stream"}


def _upload(**fields) -> UploadSettings:
    return UploadSettings(tokens=[UploadToken(athlete="ana", token=TOKEN)], **fields)


class Serving:
    """The endpoint in a thread on a free loopback port."""

    def __init__(self, inbox: Path, upload: UploadSettings) -> None:
        self.stop = threading.Event()
        self.arrivals: list = []
        self.source = HttpUploadSource(upload, inbox, port=0)
        self.thread = threading.Thread(target=self.source.run, args=(self.arrivals.append, self.stop), daemon=True)

    def __enter__(self) -> Serving:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.source.started.is_set():
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.source.port), timeout=10)
        return sock


def _read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started, data = time.monotonic(), b""
    sock.settimeout(limit_s)
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        pytest.fail(f"the server held the connection for more than {limit_s} s; got {data!r}")
    except ConnectionResetError:
        pass
    return data, time.monotonic() - started


@pytest.mark.parametrize("what", ["nothing", "half a request line", "headers a byte at a time"])
def test_a_client_too_slow_with_its_headers_is_cut_off(tmp_path, what):
    with Serving(tmp_path / "inbox", _upload(header_timeout_s=0.6)) as server, server.connect() as sock:
        if what == "half a request line":
            sock.sendall(b"POST /v1/fil")
        elif what == "headers a byte at a time":  # slowloris: every byte in time, the whole far too late
            def dribble() -> None:
                for byte in b"POST /v1/files HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200:
                    try:
                        sock.send(bytes([byte]))
                    except OSError:
                        return
                    time.sleep(0.05)
            threading.Thread(target=dribble, daemon=True).start()
        answer, seconds = _read_until_closed(sock, limit_s=5)
    assert answer.startswith(b"HTTP/1.1 408") and b"header_timeout_s" in answer
    assert seconds < 3


def test_a_body_that_does_not_arrive_in_time_is_refused_and_nothing_is_kept(tmp_path, fit_of):
    inbox = tmp_path / "inbox"
    body = fit_of(1)
    with Serving(inbox, _upload(body_timeout_s=1.0)) as server:
        with server.connect() as sock:
            head = (f"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                    f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            sock.sendall(head + body[:100])

            def dribble() -> None:
                for offset in range(100, len(body), 10):
                    try:
                        sock.send(body[offset:offset + 10])
                    except OSError:
                        return
                    time.sleep(0.2)
            threading.Thread(target=dribble, daemon=True).start()
            answer, seconds = _read_until_closed(sock, limit_s=6)
        assert answer.startswith(b"HTTP/1.1 408") and b"body_timeout_s" in answer
        assert seconds < 4
        assert [p for p in inbox.rglob("*") if p.is_file()] == []  # no partial file left behind
        # the server still serves others, on a keep-alive connection twice
        with httpx.Client(base_url=server.source.url, timeout=10) as client:
            assert [client.post("/v1/files", content=fit_of(n), headers=AUTH).status_code for n in (2, 3)] == [201, 201]


def test_a_port_in_use_or_a_bad_host_is_a_clean_configuration_error(tmp_path, cli_main, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match="in use"):
            HttpUploadSource(_upload(), tmp_path / "inbox", port=port)
        config = tmp_path / "config.toml"
        config.write_text(f'[[upload.tokens]]\nathlete = "ana"\ntoken = "{TOKEN}"\n', encoding="utf-8")
        assert cli_main(["--config", str(config), "serve-api", "--port", str(port), "--land-only"]) == 2
        err = capsys.readouterr().err
        assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err
    assert cli_main(["--config", str(config), "serve-api", "--host", "no-such-host.invalid", "--land-only"]) == 2
    assert "does not resolve" in capsys.readouterr().err


def _ingest_only(paths, settings, *, athlete=None, config=None):
    """The watcher's seam without Prefect: the real ingest into the real warehouse file."""
    with open_warehouse(settings.db) as wh:
        return ingest_paths(wh, settings, paths, athlete=athlete)


def test_stored_uploads_leave_the_inbox_and_every_upload_has_a_files_row(settings, fit_of, no_prefect_events,
                                                                        cli_main, capsys):
    from tendon_pipeline.runtime.watch import Watcher

    settings = settings.model_copy(update={"upload": _upload()})
    http = HttpUploadSource(settings.upload, settings.inbox, port=0)
    watcher = Watcher(settings, sources=[http], batch_window_s=0.2, processor=_ingest_only, warm_up=False)
    damaged = fit_of(5)[:14] + b"\x00" * 200  # a FIT header, then garbage: quarantined
    with watcher:
        assert watcher.wait_ready(30)
        with httpx.Client(base_url=http.url, timeout=10) as client:
            ids = [client.post("/v1/files", content=data, headers=AUTH).json()["ingest_id"]
                   for data in (fit_of(1), fit_of(1), fit_of(2), damaged)]  # the second: byte-identical
        assert watcher.wait_idle(120)
    left = sorted(p.name for p in settings.inbox.rglob("*.fit"))
    assert left == [f"{ids[3]}.fit"]  # the quarantined upload stays for inspection, the rest are stored
    assert cli_main(["--db", str(settings.db), "files", "--json"]) == 0
    import json

    rows = {Path(r["path"]).stem: r for r in json.loads(capsys.readouterr().out)}
    assert sorted(rows) == sorted(ids)
    assert rows[ids[1]]["status"] == "duplicate" and rows[ids[1]]["reason_code"] == "already_seen"
    assert rows[ids[0]]["status"] == rows[ids[2]]["status"] == "ingested"
    assert rows[ids[3]]["status"] == "quarantined"


def test_a_forged_upload_over_http_cannot_block_the_owners_run(settings, fit_of, no_prefect_events):
    """Mallory's token uploads a file carrying Ana's watch serial and start second; Ana's real run
    synced afterwards is still stored as hers, and the conflict names both (issue 14 item 2)."""
    from tendon_pipeline.runtime.watch import Watcher

    mallory = "mallory-token-0123456789"
    upload = UploadSettings(tokens=[UploadToken(athlete="ana", token=TOKEN),
                                    UploadToken(athlete="mallory", token=mallory)])
    settings = settings.model_copy(update={"upload": upload})
    http = HttpUploadSource(upload, settings.inbox, port=0)
    watcher = Watcher(settings, sources=[http], batch_window_s=0.2, processor=_ingest_only, warm_up=False)
    with watcher:
        assert watcher.wait_ready(30)
        with httpx.Client(base_url=http.url, timeout=10) as client:
            forged = client.post("/v1/files", content=fit_of(1, distance_m=100.0),
                                 headers={**AUTH, "Authorization": f"Bearer {mallory}"})
            assert forged.status_code == 201
            assert watcher.wait_idle(120)
            real = client.post("/v1/files", content=fit_of(1, distance_m=9000.0, duration_s=2700), headers=AUTH)
            assert real.status_code == 201
        assert watcher.wait_idle(120)
    with open_warehouse(settings.db, read_only=True) as wh:
        stored = wh.con.execute("SELECT a.athlete_id, s.distance_m FROM activities a JOIN sessions s"
                                " USING (activity_id) ORDER BY 1").fetchall()
        [(status, code, reason)] = wh.con.execute(
            "SELECT status, reason_code, reason FROM source_files WHERE path LIKE ?",
            [f"%{real.json()['ingest_id']}.fit"]).fetchall()
    assert stored == [("ana", 9000.0), ("mallory", 100.0)]
    assert (status, code) == ("ingested", "athlete_conflict") and "'mallory'" in reason and "'ana'" in reason
