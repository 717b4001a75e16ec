"""The upload endpoint, tested against the real server (uvicorn on 127.0.0.1, a free port)."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import httpx
import pytest

from tendon_pipeline.connectors.sources.config import UploadSettings, UploadToken
from tendon_pipeline.connectors.sources.http_upload import HttpUploadSource

ANA = "ana-token-0123456789"
BEN_WATCH = "ben-watch-token-0123456789"
OCTET = {"Content-Type": "application/octet-stream"}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **OCTET}


def _upload_settings(max_mb: float = 0.25) -> UploadSettings:
    return UploadSettings(max_mb=max_mb, tokens=[
        UploadToken(athlete="ana", token=ANA),
        UploadToken(athlete="ben", device="ben-forerunner",
                    token_sha256=hashlib.sha256(BEN_WATCH.encode()).hexdigest()),
    ])


class Server:
    """The endpoint in a thread, landing into ``inbox``; arrivals collected."""

    def __init__(self, inbox: Path, upload: UploadSettings) -> None:
        self.arrivals: list = []
        self.stop = threading.Event()
        self.source = HttpUploadSource(upload, inbox, host="127.0.0.1", port=0)
        self.thread = threading.Thread(target=self.source.run, args=(self.arrivals.append, self.stop), daemon=True)

    def __enter__(self) -> httpx.Client:
        self.thread.start()
        self.client = httpx.Client(base_url=self.source.url, timeout=10)
        deadline = time.monotonic() + 15
        while True:
            try:
                if self.client.get("/healthz").status_code == 200:
                    return self.client
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self.client.close()
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the server did not stop"


@pytest.fixture
def server(tmp_path):
    inbox = tmp_path / "inbox"
    running = Server(inbox, _upload_settings())
    with running as client:
        running.inbox = inbox
        yield running, client


def _landed(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.rglob("*") if p.is_file()) if inbox.exists() else []


def test_a_good_upload_lands_atomically_and_answers_with_the_ingest_id(server, fit_of):
    running, client = server
    data = fit_of(1)
    response = client.post("/v1/files", content=data, headers=_auth(ANA))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["athlete"] == "ana" and body["bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    landed = running.inbox / "ana" / f"{body['ingest_id']}.fit"
    assert _landed(running.inbox) == [landed]  # no temporary file left behind
    assert landed.read_bytes() == data
    [arrival] = running.arrivals
    assert (arrival.arrival_id, arrival.path, arrival.source, arrival.sha256) == (
        body["ingest_id"], landed, "http", body["sha256"])


def test_per_device_token_and_athlete_in_the_path(server, fit_of):
    running, client = server
    response = client.post("/v1/athletes/ben/files", content=fit_of(2),
                           headers={**_auth(BEN_WATCH), "Content-Type": "application/vnd.ant.fit"})
    assert response.status_code == 201, response.text
    assert [(a.athlete_id, a.device) for a in running.arrivals] == [("ben", "ben-forerunner")]
    assert (running.inbox / "ben" / f"{response.json()['ingest_id']}.fit").exists()


@pytest.mark.parametrize("headers", [
    OCTET,  # no token
    _auth("not-a-token-0123456789"),
    {"Authorization": f"Basic {ANA}", **OCTET},
    {"Authorization": "Bearer", **OCTET},
    _auth(ANA + "x"),
], ids=["missing", "unknown", "basic", "empty", "longer"])
def test_missing_or_wrong_token_is_401(server, fit_of, headers):
    running, client = server
    response = client.post("/v1/files", content=fit_of(3), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert _landed(running.inbox) == [] and running.arrivals == []


def test_a_token_only_uploads_for_its_own_athlete(server, fit_of):
    running, client = server
    response = client.post("/v1/athletes/ben/files", content=fit_of(3), headers=_auth(ANA))
    assert response.status_code == 403
    assert _landed(running.inbox) == []


def test_too_large_is_413_whether_declared_or_streamed(server, fit_of):
    running, client = server
    big = b"\x0e\x10" + b"\0" * 300_000  # over the 0.25 MB limit
    declared = client.post("/v1/files", content=big, headers=_auth(ANA))
    assert declared.status_code == 413

    def chunks():  # no Content-Length: counted while streaming
        for start in range(0, len(big), 16_384):
            yield big[start:start + 16_384]

    streamed = client.post("/v1/files", content=chunks(), headers=_auth(ANA))
    assert streamed.status_code == 413
    assert _landed(running.inbox) == [] and running.arrivals == []


def test_not_fit_is_422_and_wrong_content_type_is_415(server, fit_of):
    running, client = server
    assert client.post("/v1/files", content=b"<gpx>not a FIT file</gpx>" * 4, headers=_auth(ANA)).status_code == 422
    assert client.post("/v1/files", content=b"", headers=_auth(ANA)).status_code == 422
    text = client.post("/v1/files", content=fit_of(4), headers={**_auth(ANA), "Content-Type": "text/plain"})
    assert text.status_code == 415
    form = client.post("/v1/files", files={"file": ("run.fit", fit_of(4))}, headers={"Authorization": f"Bearer {ANA}"})
    assert form.status_code == 415
    assert _landed(running.inbox) == [] and running.arrivals == []


@pytest.mark.parametrize("raw_path", [
    "/v1/athletes/%2e%2e/files",
    "/v1/athletes/..%2f..%2fetc/files",
    "/v1/athletes/%2e%2e%2fana/files",
    "/v1/athletes/.ana/files",
    "/v1/athletes/ana%00/files",
    "/v1/athletes/../ana/files",
])
def test_path_tricks_in_the_athlete_are_refused(server, fit_of, raw_path, tmp_path):
    running, client = server
    # sent byte for byte (no client-side normalisation of dot segments)
    request = client.build_request("POST", "/", content=fit_of(5), headers=_auth(ANA))
    request.url = request.url.copy_with(raw_path=raw_path.encode())
    response = client.send(request)
    assert response.status_code in (400, 403, 404, 422), (raw_path, response.status_code)
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == []


def test_uploads_are_ingested_by_the_watcher_in_the_same_process(settings, fit_of, wait):
    """serve-api's default: uploads go straight to the single writer, ingest follows."""
    from tendon_pipeline.warehouse.store import open_warehouse
    from tendon_pipeline.runtime.watch import Watcher

    http = HttpUploadSource(_upload_settings(), settings.inbox, port=0)
    watcher = Watcher(settings, sources=[http], batch_window_s=0.2)
    with watcher:
        assert watcher.wait_ready(30)
        with httpx.Client(base_url=http.url, timeout=10) as client:
            started = time.time()
            ids = [client.post("/v1/files", content=fit_of(n), headers=_auth(ANA)).json()["ingest_id"]
                   for n in (6, 7)]
            again = client.post("/v1/files", content=fit_of(6), headers=_auth(ANA))  # same file uploaded twice
            assert again.status_code == 201
        assert watcher.wait_idle(120)
        done = max(b.finished for b in watcher.batches)
    print(f"\n[latency] upload -> ingested + evaluated: {done - started:.2f} s for 3 uploads")
    with open_warehouse(settings.db, read_only=True) as wh:
        stored = wh.query("SELECT path, status FROM source_files ORDER BY path").values.tolist()
        activities = wh.query("SELECT count(*) FROM activities").iloc[0, 0]
    assert activities == 2
    assert sorted(Path(p).stem for p, s in stored if s == "ingested") == sorted(ids)
