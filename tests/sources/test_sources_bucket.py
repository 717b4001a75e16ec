"""The cloud seam: a bucket (here a directory store) polled into the inbox, same Arrival shape."""

from __future__ import annotations

import os
import threading

from tendon_pipeline.connectors.sources.base import Source
from tendon_pipeline.connectors.sources.bucket import BucketSource, LocalDirStore


def test_new_bucket_objects_land_in_the_inbox_once_across_restarts(tmp_path, drop, fit_of):
    bucket, inbox = tmp_path / "bucket", tmp_path / "inbox"
    one = drop(bucket / "uploads" / "ana" / "2026" / "run.fit", 1)
    drop(bucket / "uploads" / "ben" / "ride.fit", 2)
    (bucket / "uploads" / "ben" / "notes.fit").write_bytes(b"not a FIT file at all")
    drop(bucket / "uploads" / "..hidden" / "x.fit", 3)  # not a valid athlete id
    drop(bucket / "uploads" / "loose.fit", 4)  # no athlete folder
    drop(bucket / "elsewhere" / "ana" / "y.fit", 5)  # outside the prefix
    got = []
    source = BucketSource(LocalDirStore(bucket), inbox, prefix="uploads/")
    assert isinstance(source, Source)
    assert source.sync_once(got.append) == 2
    assert sorted((a.athlete_id, a.source) for a in got) == [("ana", "bucket"), ("ben", "bucket")]
    landed = next(a for a in got if a.athlete_id == "ana")
    assert landed.path.parent == inbox / "ana" and landed.path.read_bytes() == one.read_bytes()
    assert "run" not in landed.path.name  # the name is derived server-side, never the key
    assert sorted(p.name for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")) == sorted(
        a.path.name for a in got)

    again = BucketSource(LocalDirStore(bucket), inbox, prefix="uploads/")  # a restart
    assert again.sync_once(got.append) == 0
    one.write_bytes(fit_of(6))  # the object was replaced
    os.utime(one, ns=(1, 1))
    assert again.sync_once(got.append) == 1 and got[-1].path == landed.path
    assert got[-1].path.read_bytes() == fit_of(6)


def test_the_bucket_source_runs_until_stopped(tmp_path, drop):
    bucket, inbox = tmp_path / "bucket", tmp_path / "inbox"
    drop(bucket / "ana" / "a.fit", 1)
    got, stop = [], threading.Event()
    thread = threading.Thread(target=BucketSource(LocalDirStore(bucket), inbox, interval_s=0.1).run,
                              args=(got.append, stop))
    thread.start()
    try:
        for _ in range(100):
            if got:
                break
            stop.wait(0.05)
        drop(bucket / "ana" / "b.fit", 2)
        for _ in range(100):
            if len(got) == 2:
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive() and len(got) == 2
