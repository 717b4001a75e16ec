"""Property-based fuzzing of the decoder and the ingest path, seeded from real FIT files.

Every mutated file must end as ingested, salvaged, skipped or quarantined with a reason:
never an unhandled exception, a hang, or memory that grows with a declared (not real) size.
The normal suite runs a fixed-seed sample; a longer run:
``FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/faults/test_fuzz_decoder.py``.
"""

from __future__ import annotations

import os
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tendon_pipeline.errors import FitFileRejected, NotAnActivity
from tendon_pipeline.fit.decode import decode_bytes
from tendon_pipeline.examples.generate import ActivitySpec, StrengthSet, fit_bytes
from tendon_pipeline.app.ingest import Ingestor, SourceFile
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse

import fit_mutations as m

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
START = datetime(2026, 5, 3, 7, 0, tzinfo=timezone.utc)
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "fit-corpus"
CORPUS_SEEDS = ["garmin-fenix-5-run.fit", "Activity.fit", "activity-small-fenix2-run.fit"]


def _seeds() -> list[bytes]:
    seeds = [
        fit_bytes(ActivitySpec(start_utc=START, distance_m=400, duration_s=120, running_dynamics=True,
                               body_mass_kg=70, height_m=1.8, with_power=True)),
        fit_bytes(ActivitySpec(start_utc=START, sport="training", sub_sport="strength_training",
                               distance_m=0, duration_s=90, cadence_spm=None,
                               strength_sets=[StrengthSet(category="calf_raise", subtype=19, repetitions=12,
                                                          weight_kg=20, duration_s=40)])),
    ]
    seeds += [(CORPUS / name).read_bytes() for name in CORPUS_SEEDS if (CORPUS / name).exists()
              and (CORPUS / name).stat().st_size < 20_000]
    return seeds


SEEDS = _seeds()


def outcome_of(data: bytes) -> str:
    """The decoder's verdict; anything but these four is a bug."""
    try:
        decoded = decode_bytes(data)
    except NotAnActivity:
        return "skipped"
    except FitFileRejected as exc:
        assert exc.reason_code and exc.message
        return "quarantined:" + exc.reason_code
    assert decoded.salvaged == bool(decoded.salvage_reason)
    assert len(decoded.records) <= len(data)  # never more records than bytes
    return "salvaged" if decoded.salvaged else "ingested"


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("byte"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.sampled_from(["num_fields", "field_size", "global"]), st.integers(0, 50), st.integers(0, 65535)),
)


def _apply(data: bytes, kind: str, a: int, b: int) -> bytes:
    if kind == "flip":
        return m.flip_bit(data, a, b)
    if kind == "byte":
        return m.set_byte(data, a, b)
    if kind == "truncate":
        return data[: a % len(data)]
    return m.mutate_definition(data, a, kind, b)


@FUZZ
@given(seed=st.sampled_from(range(len(SEEDS))), mutations=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_files_always_get_an_outcome(seed, mutations):
    data = SEEDS[seed]
    for kind, a, b in mutations:
        data = _apply(data, kind, a, b) if data else data
    outcome_of(data)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_truncation_at_every_message_boundary(seed):
    data = SEEDS[seed]
    results = {outcome_of(data[:cut]) for cut in m.message_boundaries(data)}
    assert results <= {"skipped", "salvaged", "quarantined:truncated", "quarantined:empty",
                       "quarantined:not_fit", "quarantined:bad_header", "quarantined:corrupt"}
    assert "salvaged" in results or seed >= 2  # our runs keep their data up to the break


def test_huge_declared_length_does_not_allocate_it():
    data = m.huge_declared_size(SEEDS[0])
    tracemalloc.start()
    try:
        result = outcome_of(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.startswith("salvaged") or result.startswith("quarantined")
    assert peak < 64 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB for a {len(data)}-byte file"


def test_endless_compressed_timestamp_stream_ends_with_an_outcome():
    data = m.endless_compressed_timestamps(SEEDS[0], 200_000)
    assert outcome_of(data).split(":")[0] in {"ingested", "salvaged", "quarantined"}


@settings(max_examples=max(20, EXAMPLES // 5), derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(mutation, min_size=1, max_size=2))
def test_ingest_of_a_mutated_file_is_all_or_nothing(tmp_path_factory, mutations):
    data = SEEDS[0]
    for kind, a, b in mutations:
        data = _apply(data, kind, a, b) if data else data
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "x.fit"
    path.write_bytes(data)
    settings_ = load_settings(db=folder / "w.duckdb")
    with open_warehouse(":memory:") as wh:
        outcome = Ingestor(wh, settings_, athlete="ana").ingest_one(SourceFile(path))
        counts = wh.table_counts()
    stored = outcome.status in ("ingested", "salvaged")
    assert counts["activities"] == (1 if stored else 0)
    if not stored:
        assert counts["records"] == counts["sessions"] == counts["laps"] == 0
    if outcome.status in ("quarantined", "skipped"):
        assert outcome.reason
