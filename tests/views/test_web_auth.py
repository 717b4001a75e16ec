"""Sign-in pieces: scrypt passwords, signed sessions that expire, users in the configuration."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tendon_pipeline.config.web import WebSettings
from tendon_pipeline.web.auth import SessionSigner, hash_password, verify_password

KEY = b"k" * 32


def test_a_password_verifies_against_its_hash_only():
    encoded = hash_password("correct horse")
    assert encoded.startswith("scrypt$16384$8$1$") and "correct horse" not in encoded
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct horsE", encoded)
    assert not verify_password("correct horse", None)  # unknown user
    assert hash_password("correct horse") != encoded  # salted


def test_a_session_expires_and_a_tampered_one_is_refused():
    signer = SessionSigner(KEY, max_age_s=60)
    session = signer.new("kim", "coach", hash_password("pw-123456"), now=1000)
    token = signer.dumps(session)
    assert signer.loads(token, now=1059) == session
    assert signer.loads(token, now=1060) is None  # expired
    payload, signature = token.split(".")
    forged = SessionSigner(b"x" * 32, 60).dumps(session.with_flash(None))
    assert signer.loads(forged, now=1000) is None  # signed with another key
    assert signer.loads(payload[:-2] + "AA." + signature, now=1000) is None
    assert signer.loads("garbage", now=1000) is None


def test_a_plain_password_in_the_configuration_is_refused_without_echoing_it(tmp_path):
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.errors import ConfigError

    config = tmp_path / "c.toml"
    config.write_text('[[web.users]]\nname = "kim"\nrole = "coach"\ncoach = "Kim"\npassword_hash = "hunter2-plain"\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, db=tmp_path / "w.duckdb")
    assert "web.users.0.password_hash" in str(caught.value) and "tendon hash-password" in str(caught.value)
    assert "hunter2-plain" not in str(caught.value) and "hunter2-plain" not in repr(WebSettings())


def test_a_user_needs_the_coach_or_athlete_their_role_names():
    with pytest.raises(ValueError, match="is a runner: give `athlete`"):
        WebSettings.model_validate({"users": [{"name": "ana", "role": "runner", "password_hash": hash_password("x")}]})


def test_a_coach_user_must_name_a_configured_coach(tmp_path):
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.errors import ConfigError
    from tendon_pipeline.web.app import check_users

    config = tmp_path / "c.toml"
    config.write_text('[[coaches]]\nname = "Kim"\nathletes = ["ana"]\n[[web.users]]\nname = "lee"\nrole = "coach"\n'
                      f'coach = "Lee"\npassword_hash = "{hash_password("pw-123456")}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="no \\[\\[coaches\\]\\] entry has that name \\(coaches: Kim\\)"):
        check_users(load_settings(config, db=tmp_path / "w.duckdb"))


def test_hash_password_prints_a_hash_that_verifies():
    from tendon_pipeline.cli.main import cli

    result = CliRunner().invoke(cli, ["hash-password", "--password-stdin"], input="s3cret-enough\n")
    assert result.exit_code == 0, result.output
    encoded = result.output.strip()
    assert verify_password("s3cret-enough", encoded) and "s3cret-enough" not in result.output
    short = CliRunner().invoke(cli, ["hash-password", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.output


def test_the_demo_ends_with_how_to_open_the_pages(tmp_path, capsys):
    from tendon_pipeline.cli.main import _print_web_hint
    from tendon_pipeline.config.settings import load_settings

    _print_web_hint(load_settings(db=tmp_path / "w.duckdb"))
    out = capsys.readouterr().out
    assert "tendon serve" in out and "http://127.0.0.1:8765/" in out and "tendon hash-password" in out
