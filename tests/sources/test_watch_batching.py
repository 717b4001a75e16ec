"""How the watcher groups arrivals into batches (one flow run each): a burst shares a batch, a lone
file does not wait the whole window (``watch.batch_quiet_s``, issue 17). The batches go to a
processor that records them and runs the real (empty) ingest report through the watcher."""

from __future__ import annotations

import threading
import time

import pytest

from tendon_pipeline.app.ingest.report import IngestReport, new_ingest_id
from tendon_pipeline.connectors.sources.base import Arrival
from tendon_pipeline.runtime.watch import Watcher


class Recorder:
    """The watcher's processor seam: when each batch started and which files it held."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, list[str]]] = []
        self.done = threading.Event()

    def __call__(self, paths, settings, *, athlete=None, config=None) -> IngestReport:
        self.batches.append((time.monotonic(), list(paths)))
        self.done.set()
        return IngestReport(new_ingest_id())


def _arrival(tmp_path, n: int) -> Arrival:
    path = tmp_path / f"run-{n}.fit"
    path.write_bytes(b"x" * (n + 1))
    return Arrival(athlete_id="ana", path=path, size=n + 1, mtime_ns=n, source="test")


@pytest.fixture
def watcher_of(settings, no_prefect_events):
    def make(**kwargs) -> tuple[Watcher, Recorder]:
        recorder = Recorder()
        return Watcher(settings, processor=recorder, warm_up=False, recover=False, **kwargs), recorder
    return make


def test_a_lone_file_starts_its_batch_after_the_quiet_time_not_the_window(watcher_of, tmp_path):
    watcher, recorder = watcher_of(batch_window_s=5.0, batch_quiet_s=0.1)
    with watcher:
        submitted = time.monotonic()
        assert watcher.submit(_arrival(tmp_path, 1))
        assert recorder.done.wait(10) and watcher.wait_idle(10)
    started, paths = recorder.batches[0]
    assert len(paths) == 1
    assert started - submitted < 2.5, "the batch waited for most of the 5 s window"


def test_a_burst_shares_one_batch_and_no_quiet_time_waits_the_window(watcher_of, tmp_path):
    watcher, recorder = watcher_of(batch_window_s=5.0, batch_quiet_s=1.0)
    with watcher:
        for n in range(5):  # 50 ms apart: within the quiet time
            assert watcher.submit(_arrival(tmp_path, n))
            time.sleep(0.05)
        assert recorder.done.wait(10) and watcher.wait_idle(10)
    assert [len(paths) for _, paths in recorder.batches] == [5]

    watcher, recorder = watcher_of(batch_window_s=0.8, batch_quiet_s=0)
    with watcher:
        submitted = time.monotonic()
        assert watcher.submit(_arrival(tmp_path, 9))
        assert recorder.done.wait(10) and watcher.wait_idle(10)
    assert recorder.batches[0][0] - submitted >= 0.8  # 0: the whole window, as before
