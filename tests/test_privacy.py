"""GPS privacy at ingest: positions near home never reach the warehouse; round and drop work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tendon_pipeline.domain.privacy import HomeZone, PrivacySettings, apply_privacy, haversine_m
from tendon_pipeline.config.settings import load_settings


def _records() -> pd.DataFrame:
    # a run leaving home (59.9139, 10.7522) northwards: about 111 m per 0.001 degree of latitude
    lat = 59.9139 + np.arange(0, 0.02, 0.001)
    return pd.DataFrame({"lat_deg": lat, "lon_deg": np.full(len(lat), 10.7522), "speed_mps": 3.0})


def test_haversine_by_hand():
    # one degree of latitude is pi/180 x 6,371 km = 111.195 km
    assert haversine_m(np.array([0.0]), np.array([0.0]), 1.0, 0.0)[0] == pytest.approx(111_194.9, rel=1e-5)


def test_positions_within_a_home_zone_are_blanked():
    privacy = PrivacySettings(home_zones=[HomeZone(lat=59.9139, lon=10.7522, radius_m=500)])
    out = apply_privacy(_records(), privacy)
    distances = haversine_m(_records()["lat_deg"].to_numpy(), _records()["lon_deg"].to_numpy(), 59.9139, 10.7522)
    assert out.loc[distances <= 500, "lat_deg"].isna().all()
    assert out.loc[distances > 500, "lat_deg"].notna().all()
    assert (out["speed_mps"] == 3.0).all()  # nothing else touched


def test_round_and_drop():
    rounded = apply_privacy(_records(), PrivacySettings(gps="round", round_decimals=2))
    assert set(rounded["lat_deg"].round(6)) <= {59.91, 59.92, 59.93}
    dropped = apply_privacy(_records(), PrivacySettings(gps="drop"))
    assert dropped[["lat_deg", "lon_deg"]].isna().all().all()


def test_configured_from_toml(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[privacy]\ngps = "round"\n[[privacy.home_zones]]\nlat = 59.9\nlon = 10.7\nradius_m = 800\n')
    settings = load_settings(config, db=tmp_path / "w.duckdb")
    assert settings.privacy.gps == "round" and settings.privacy.home_zones[0].radius_m == 800


@pytest.mark.corpus
def test_ingest_stores_no_dropped_position(corpus_dir, tmp_path, warehouse):
    from tendon_pipeline.app.ingest import ingest_paths

    settings = load_settings(db=tmp_path / "w.duckdb", privacy=PrivacySettings(gps="drop"))
    ingest_paths(warehouse, settings, [corpus_dir / "garmin-fenix-5-run.fit"], athlete="ana")
    counts = warehouse.query("SELECT count(*) AS n, count(lat_deg) AS with_gps FROM records").iloc[0]
    assert counts.n == 21 and counts.with_gps == 0
