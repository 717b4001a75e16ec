"""The demo's steps (examples/demo.py) without the flow run."""

from __future__ import annotations

from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.examples.demo import example_inbox


def test_the_example_inbox_is_written_once_then_reused(tmp_path):
    settings = load_settings(db=tmp_path / "w.duckdb")
    first = example_inbox(settings, weeks=3)
    assert not first.reused and first.files and first.folder == tmp_path / "example-inbox"
    assert first.athletes == sorted({p.parent.name for p in first.files}) and len(first.athletes) == 3
    stamps = {p: p.stat().st_mtime_ns for p in first.files}
    again = example_inbox(settings, weeks=4)
    assert again.reused and again.files == sorted(first.files)
    assert {p: p.stat().st_mtime_ns for p in again.files} == stamps  # not rewritten
