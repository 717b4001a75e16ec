"""Issue 14 item 7: a wrong configuration is refused with a message naming the keys (exit 2)."""

from __future__ import annotations

import pytest

from tendon_pipeline.cli.main import main
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.errors import ConfigError


def _config(tmp_path, text: str | bytes):
    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_a_non_utf8_config_file_is_a_clean_configuration_error(tmp_path, capsys):
    path = _config(tmp_path, b'[[athletes]]\nid = "ana"\nname = "Ren\xe9e"\n')  # Latin-1, not UTF-8
    code = main(["--config", str(path), "--db", str(tmp_path / "w.duckdb"), "summary"])
    err = capsys.readouterr().err
    assert code == 2
    assert "not UTF-8" in err and str(path) in err and "Traceback" not in err


def test_inverted_thresholds_are_refused_naming_both_keys(tmp_path):
    path = _config(tmp_path, "[rules]\nvolume_increase_caution = 0.5\nvolume_increase_warning = 0.3\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    text = str(info.value)
    assert "volume_increase_caution" in text and "volume_increase_warning" in text


@pytest.mark.parametrize("low, high", [("spike_caution", "spike_high"), ("acwr_caution", "acwr_warning"),
                                       ("visa_a_drop_caution", "visa_a_drop_warning")])
def test_every_severity_ladder_is_checked(tmp_path, low, high):
    path = _config(tmp_path, f"[rules]\n{low} = 5.0\n{high} = 2.0\n")
    with pytest.raises(ConfigError, match=low):
        load_settings(path)


def test_duplicate_athlete_ids_are_refused(tmp_path):
    path = _config(tmp_path, '[[athletes]]\nid = "ana"\n\n[[athletes]]\nid = "ben"\n\n[[athletes]]\nid = "ana"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "'ana'" in str(info.value) and "athletes[0]" in str(info.value) and "athletes[2]" in str(info.value)


def test_one_device_serial_under_two_athletes_is_refused(tmp_path):
    path = _config(tmp_path, '[[athletes]]\nid = "ana"\ndevices = [3900000001]\n\n'
                             '[[athletes]]\nid = "ben"\ndevices = [3900000002, 3900000001]\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    text = str(info.value)
    assert "3900000001" in text and "'ana'" in text and "'ben'" in text


def test_a_consistent_configuration_still_loads(tmp_path):
    path = _config(tmp_path, '[[athletes]]\nid = "ana"\ndevices = [1]\n\n[[athletes]]\nid = "ben"\ndevices = [2]\n'
                             "[rules]\nvolume_increase_caution = 0.15\n")
    settings = load_settings(path)
    assert settings.athlete_for_serial(2) == "ben" and settings.rules.volume_increase_caution == 0.15
