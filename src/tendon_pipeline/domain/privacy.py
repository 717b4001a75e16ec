"""GPS privacy at ingest: keep, round or drop positions, and blank them near home.

Applied to the records frame before anything is stored, so a position that is dropped
never reaches the warehouse (or its exports).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # numpy and pandas load with the first records frame (the settings import this module)
    import numpy as np
    import pandas as pd

EARTH_RADIUS_M = 6_371_000.0


class HomeZone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=500.0, gt=0, le=50_000)


class PrivacySettings(BaseModel):
    """What is kept of GPS positions (`lat_deg`, `lon_deg` in `records`)."""

    model_config = ConfigDict(extra="forbid")

    gps: Literal["keep", "round", "drop"] = Field(
        default="keep", description="keep positions, round them (see round_decimals), or drop them all")
    round_decimals: int = Field(default=2, ge=0, le=5, description="2 decimals = about 1 km")
    home_zones: list[HomeZone] = Field(
        default_factory=list, description="positions within radius_m of these points are never stored")

    def keeps_every_position(self) -> bool:
        """Nothing to change: positions kept, no home zone."""
        return self.gps == "keep" and not self.home_zones


def apply_privacy(records: pd.DataFrame, privacy: PrivacySettings) -> pd.DataFrame:
    """The records with positions dropped, blanked near home, or rounded, as configured."""
    if records.empty or privacy.keeps_every_position():
        return records
    import numpy as np

    records = records.copy()
    if privacy.gps == "drop":
        records[["lat_deg", "lon_deg"]] = np.nan
        return records
    near_home = _near_any(records["lat_deg"].to_numpy(), records["lon_deg"].to_numpy(), privacy.home_zones)
    records.loc[near_home, ["lat_deg", "lon_deg"]] = np.nan
    if privacy.gps == "round":
        records[["lat_deg", "lon_deg"]] = records[["lat_deg", "lon_deg"]].round(privacy.round_decimals)
    return records


def _near_any(lat: np.ndarray, lon: np.ndarray, zones: list[HomeZone]) -> np.ndarray:
    import numpy as np

    near = np.zeros(len(lat), dtype=bool)
    for zone in zones:
        near |= haversine_m(lat, lon, zone.lat, zone.lon) <= zone.radius_m
    return near


def haversine_m(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distance in metres (NaN positions give NaN, which is never 'near')."""
    import numpy as np

    p1, p2 = np.radians(lat), np.radians(lat0)
    dp, dl = p2 - p1, np.radians(lon0) - np.radians(lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
