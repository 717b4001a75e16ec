"""docs/configuration.md, generated from the Settings class (a test checks it is current)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel

HEADER = """# Configuration

Generated from the `Settings` class by `tendon config-doc` (do not edit by hand; a test checks it).

Where settings come from, highest first: command-line options (`--db`, `--config`), environment
variables `TENDON_<NAME>` (nested with `__`, e.g. `TENDON_RULES__MONOTONY_WARNING=2.5`), the
TOML file (`--config FILE`, else `$TENDON_CONFIG`, else `~/.config/tendon-pipeline/config.toml` when
it exists), then the defaults below. Unknown keys and wrong types are refused at start with the key
and where it was read from.

Example:

```toml
db = "/srv/tendon/warehouse.duckdb"

[[athletes]]
id = "ana"
name = "Ana"
body_mass_kg = 61.5
height_m = 1.68
timezone = "Europe/Oslo"
devices = [3912345678]          # watch serials: files from this watch are Ana's
program_start = 2026-09-01
baseline_weekly_km = 35         # Ana's usual week, until there are 3 weeks of history
races = [{date = 2026-10-04, distance_km = 42.2, priority = "A", name = "Oslo marathon"}]

[rules]
volume_increase_caution = 0.10  # every rule threshold lives here
[rules.athlete_calibration.ana]
scale = 0.9                     # Ana's Achilles-load curve, if calibrated
```
"""


def settings_markdown() -> str:
    from tendon_pipeline.config.settings import Settings

    parts = [HEADER, "## Top-level settings\n", _table(Settings, skip=frozenset({"rules"}))]
    for name, field in Settings.model_fields.items():
        model = _model_of(field.annotation)
        if model is not None and name != "athletes":
            parts += [f"\n## `{name}`\n", _table(model)]
    from tendon_pipeline.config.settings import AthleteConfig

    parts += ["\n## `[[athletes]]`\n", _table(AthleteConfig)]
    return "\n".join(parts).rstrip() + "\n"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _table(model: type[BaseModel], skip: frozenset[str] = frozenset()) -> str:
    lines = ["| key | default | meaning |", "| --- | --- | --- |"]
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        value = field.default.value if isinstance(field.default, Enum) else field.default
        default = "(computed)" if field.default_factory is not None else repr(value)
        if _model_of(field.annotation) is not None:
            default = "(section below)"
        text = (field.description or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | `{default}` | {text} |")
    return "\n".join(lines) + "\n"
