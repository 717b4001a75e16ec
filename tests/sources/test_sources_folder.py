"""The folder source on a real watched folder (watchfiles / inotify), no pipeline behind it."""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from pathlib import Path

import pytest

from tendon_pipeline.connectors.sources.folder import FolderSource


class Running:
    """A FolderSource running in a thread, its arrivals on a queue."""

    def __init__(self, inbox: Path, **options) -> None:
        self.source = FolderSource(inbox, **options)
        self.arrivals: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.source.run, args=(self.arrivals.put, self.stop), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        assert self.source.watching.wait(10), "the watch did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()

    def take(self, count: int, timeout: float = 10.0) -> list:
        got = [self.arrivals.get(timeout=timeout) for _ in range(count)]
        return got

    def nothing_more(self, wait: float = 0.6) -> bool:
        time.sleep(wait)
        return self.arrivals.empty()


@pytest.mark.parametrize("poll", [False, True], ids=["notify", "poll"])
def test_catch_up_then_each_complete_arrival_once(tmp_path, drop, poll):
    inbox = tmp_path / "inbox"
    before = drop(inbox / "ana" / "old.fit", 1)
    drop(inbox / ".sync" / "ana" / "hidden.fit", 2)  # hidden folder: never taken
    with Running(inbox, settle_s=30, poll=poll, poll_interval_ms=100) as running:
        [caught] = running.take(1)
        assert (caught.path, caught.athlete_id, caught.source) == (before, "ana", "folder")
        assert caught.size == before.stat().st_size
        new = drop(inbox / "ben" / "2026" / "new.fit", 3)  # written as tmp + rename
        (inbox / "ben" / "notes.txt").write_text("not a FIT file")
        (inbox / "ben" / "up.fit.part").write_bytes(b"partial download")
        [arrival] = running.take(1)
        assert (arrival.path, arrival.athlete_id) == (new, "ben")
        assert running.nothing_more()


def test_a_file_written_slowly_is_taken_once_when_complete(tmp_path, fit_of):
    inbox = tmp_path / "inbox"
    data = fit_of(4)
    with Running(inbox, settle_s=30) as running:
        target = inbox / "ana" / "slow.fit"
        target.parent.mkdir(parents=True)
        with target.open("wb") as handle:  # written in place, in pieces, like a slow USB copy
            for start in range(0, len(data), len(data) // 4):
                handle.write(data[start:start + len(data) // 4])
                handle.flush()
                time.sleep(0.3)
                if handle.tell() < len(data):
                    assert running.arrivals.empty(), "taken before it was complete"
        [arrival] = running.take(1)
        assert arrival.size == len(data) and arrival.path == target
        assert running.nothing_more()


def test_a_cut_file_is_taken_after_it_settles(tmp_path, fit_of):
    inbox = tmp_path / "inbox"
    data = fit_of(5)
    with Running(inbox, settle_s=0.8) as running:
        target = inbox / "ana" / "cut.fit"
        target.parent.mkdir(parents=True)
        started = time.monotonic()
        target.write_bytes(data[: len(data) // 2])  # the watch died mid-sync: never completes
        [arrival] = running.take(1)
        assert time.monotonic() - started >= 0.8
        assert arrival.size == len(data) // 2


def test_a_folder_moved_in_whole_and_a_rewritten_file_are_seen(tmp_path, drop):
    inbox = tmp_path / "inbox"
    staging = tmp_path / "staging" / "cleo"
    first = drop(staging / "a.fit", 6)
    drop(staging / "b.fit", 7)
    with Running(inbox, settle_s=30) as running:
        inbox.mkdir(exist_ok=True)
        shutil.move(str(staging), str(inbox / "cleo"))
        got = running.take(2)
        assert sorted(a.path.name for a in got) == ["a.fit", "b.fit"]
        assert {a.athlete_id for a in got} == {"cleo"}
        os.utime(inbox / "cleo" / first.name)  # touched: content may have changed, offered again
        [again] = running.take(1)
        assert again.path == inbox / "cleo" / "a.fit"
        assert running.nothing_more()


def test_catch_up_once_waits_for_files_still_being_written(tmp_path, drop, fit_of):
    inbox = tmp_path / "inbox"
    drop(inbox / "ana" / "done.fit", 8)
    growing = inbox / "ana" / "growing.fit"
    data = fit_of(9)
    growing.write_bytes(data[:100])

    def finish() -> None:
        time.sleep(0.5)
        growing.write_bytes(data)

    threading.Thread(target=finish).start()
    got = []
    count = FolderSource(inbox, settle_s=30).catch_up(got.append, timeout=10)
    assert count == 2 and sorted(a.path.name for a in got) == ["done.fit", "growing.fit"]
    assert [a.size for a in got if a.path == growing] == [len(data)]
