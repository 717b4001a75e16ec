"""`tendon serve`'s pages over real HTTP on loopback: sign-in, who sees what, feedback, CSRF,
and the upload API next to them (its tokens keep working)."""

from __future__ import annotations

import hashlib
import logging
import re

import httpx
import pytest
from web_helpers import PASSWORDS, csrf_of, serve, sign_in, web_settings

from tendon_pipeline.warehouse.feedback import alert_precision, latest_feedback
from tendon_pipeline.warehouse.store import open_warehouse

UPLOAD_TOKEN = "ana-upload-token-0123456789"


@pytest.fixture
def server(built, writable_db, tmp_path):
    token = (f'\n[[upload.tokens]]\nathlete = "ana"\ntoken_sha256 = '
             f'"{hashlib.sha256(UPLOAD_TOKEN.encode()).hexdigest()}"\n')
    with serve(web_settings(built, writable_db, tmp_path, token)) as running:
        yield running


def client() -> httpx.Client:
    return httpx.Client(follow_redirects=False, timeout=60)


def test_signed_out_pages_send_you_to_sign_in(server):
    with client() as c:
        for path in ("/coach", "/coach/athletes/ben", "/runner"):
            answer = c.get(server.url + path)
            assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}"
        assert c.get(server.url + "/").headers["location"] == "/login"


def test_a_wrong_password_or_a_missing_csrf_token_signs_nobody_in(server):
    with client() as c:
        answer = sign_in(c, server.url, "kim", "not-her-password")
        assert answer.status_code == 401 and "wrong name or password" in answer.text
        assert sign_in(c, server.url, "nobody", "whatever-123").status_code == 401
        assert "tendon_session" not in c.cookies
        c.get(server.url + "/login")
        no_csrf = c.post(server.url + "/login", data={"name": "kim", "password": PASSWORDS["kim"]})
        assert no_csrf.status_code == 403 and "tendon_session" not in c.cookies


def test_the_coach_page_lists_their_athletes_worst_first_with_the_numbers(server):
    with client() as c:
        answer = sign_in(c, server.url, "kim")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        assert c.get(server.url + "/").headers["location"] == "/coach"
        page = c.get(server.url + "/coach")
    assert page.status_code == 200
    assert re.findall(r'data-athlete="([^"]+)"', page.text) == ["ben", "cleo", "ana"]  # as tendon coach
    ben = page.text[page.text.index('data-athlete="ben"'):page.text.index('data-athlete="cleo"')]
    assert "session_spike" in ben and "increase_pct = " in ben and "5 days ago" in ben and "rising" in ben
    assert "never synced" in page.text


def test_an_expired_or_forged_session_or_one_from_before_a_password_change_is_refused(built, writable_db, tmp_path):
    import time

    from tendon_pipeline.web.auth import SessionSigner, hash_password

    settings = web_settings(built, writable_db, tmp_path)
    signer = SessionSigner(b"s" * 32, max_age_s=settings.web.session_minutes * 60)
    kim = settings.web.user("kim").password_hash.get_secret_value()
    with serve(settings, signer) as running:
        def status(token: str) -> int:
            with client() as c:
                c.cookies.set("tendon_session", token)
                return c.get(running.url + "/coach").status_code

        assert status(signer.dumps(signer.new("kim", "coach", kim))) == 200
        assert status(signer.dumps(signer.new("kim", "coach", kim, now=time.time() - 9 * 3600))) == 303  # expired
        assert status(signer.dumps(signer.new("kim", "coach", hash_password("her-old-password")))) == 303
        assert status(signer.dumps(signer.new("kim", "runner", kim))) == 303  # not her role
        assert status(SessionSigner(b"x" * 32, 3600).dumps(signer.new("kim", "coach", kim))) == 303  # other key


def test_a_coach_cannot_see_or_answer_for_another_coachs_athlete(server):
    with client() as c:
        sign_in(c, server.url, "lee")  # Lee coaches ana only
        assert c.get(server.url + "/coach/athletes/ana").status_code == 200
        page = c.get(server.url + "/coach/athletes/ben")
        assert page.status_code == 404 and "ben" not in page.text.split("<main>")[1].split("</main>")[0].replace(
            "no athlete of yours has that id", "")
        with open_warehouse(server.db) as wh:
            key = wh.con.execute("SELECT alert_key FROM alerts WHERE athlete_id = 'ben' LIMIT 1").fetchone()[0]
            answers = wh.con.execute("SELECT count(*) FROM alert_feedback").fetchone()[0]
        csrf = csrf_of(c.get(server.url + "/coach").text)
        answer = c.post(server.url + "/coach/athletes/ben/feedback",
                        data={"csrf": csrf, "alert_key": key, "outcome": "false_alarm"})
        assert answer.status_code == 404
    with open_warehouse(server.db) as wh:
        assert wh.con.execute("SELECT count(*) FROM alert_feedback").fetchone()[0] == answers  # nothing new


def test_a_runner_gets_no_coach_page(server):
    with client() as c:
        sign_in(c, server.url, "ana")
        assert c.get(server.url + "/").headers["location"] == "/runner"
        assert c.get(server.url + "/coach").status_code == 403
        assert c.get(server.url + "/coach/athletes/ana").status_code == 403
        assert c.get(server.url + "/runner").status_code == 200


def test_feedback_is_stored_with_who_and_when_and_counts_in_precision(server):
    with client() as c:
        sign_in(c, server.url, "kim")
        page = c.get(server.url + "/coach/athletes/ben")
        keys = re.findall(r'data-alert-key="([^"]+)"', page.text)
        assert keys, "ben's alerts are listed"
        forged = c.post(server.url + "/coach/athletes/ben/feedback",
                        data={"csrf": "not-the-token", "alert_key": keys[0], "outcome": "acted_on"})
        assert forged.status_code == 403
        csrf = csrf_of(page.text)
        for key, outcome in ((keys[0], "false_alarm"), (keys[0], "acted_on"), (keys[1], "not_needed")):
            answer = c.post(server.url + "/coach/athletes/ben/feedback",
                            data={"csrf": csrf, "alert_key": key, "outcome": outcome, "note": "moved the long run"})
            assert answer.status_code == 303
        unknown = c.post(server.url + "/coach/athletes/ben/feedback",
                         data={"csrf": csrf, "alert_key": "ben:nope:2026-W01", "outcome": "acted_on"})
        assert unknown.status_code == 404
        shown = c.get(server.url + "/coach/athletes/ben").text
    assert "Saved: not needed" in shown, shown[shown.index("<main>"):shown.index("<main>") + 1500]
    assert "acted on</b> by kim" in shown
    with open_warehouse(server.db) as wh:
        rows = wh.con.execute("SELECT alert_key, outcome, given_by, note, given_at FROM alert_feedback"
                              " WHERE note = 'moved the long run' ORDER BY given_at").fetchall()
        precision = alert_precision(wh)
        latest = latest_feedback(wh, "ben")
        pairs = wh.con.execute("SELECT count(DISTINCT (alert_key, given_by)) FROM alert_feedback").fetchone()[0]
    assert [(r[0], r[1], r[2]) for r in rows] == [(keys[0], "false_alarm", "kim"), (keys[0], "acted_on", "kim"),
                                                 (keys[1], "not_needed", "kim")]
    assert all(r[4] is not None for r in rows)
    assert [f.outcome for f in latest[keys[0]] if f.given_by == "kim"] == ["acted_on"]  # the latest answer counts
    assert sum(p["answers"] for p in precision) == pairs


def test_next_weeks_plan_downloads_as_fit_workouts_and_a_calendar(server, tmp_path):
    import fitparse
    from icalendar import Calendar

    with client() as c:
        sign_in(c, server.url, "ana")
        page = c.get(server.url + "/runner").text
        names = re.findall(r'href="/runner/plan/([^"]+)"', page)
        assert any(n.endswith(".fit") for n in names) and any(n.endswith(".ics") for n in names)
        fit_name = next(n for n in names if n.endswith("-long-run.fit"))
        answer = c.get(server.url + "/runner/plan/" + fit_name)
        assert answer.status_code == 200 and f'filename="{fit_name}"' in answer.headers["content-disposition"]
        (tmp_path / fit_name).write_bytes(answer.content)
        decoded = fitparse.FitFile(str(tmp_path / fit_name))
        assert next(decoded.get_messages("file_id")).get_value("type") == "workout"
        assert list(decoded.get_messages("workout_step"))
        ics = c.get(server.url + "/runner/plan/" + next(n for n in names if n.endswith(".ics")))
        assert ics.status_code == 200 and Calendar.from_ical(ics.content).walk("VEVENT")
        assert c.get(server.url + "/runner/plan/nothing.fit").status_code == 404
    with client() as c:
        sign_in(c, server.url, "lee")  # Lee coaches ana only
        assert c.get(server.url + f"/coach/athletes/ana/plan/{fit_name}").status_code == 200
        assert c.get(server.url + f"/coach/athletes/ben/plan/{fit_name}").status_code == 404


def test_the_upload_api_keeps_its_tokens_on_the_same_server(server, tmp_path):
    from tendon_pipeline.examples import generate as g

    spec = g.example_histories(weeks=3)["ana"][0]
    fit = g.fit_bytes(spec)
    with client() as c:
        refused = c.post(server.url + "/v1/files", content=fit, headers={"Content-Type": "application/octet-stream"})
        assert refused.status_code == 401
        sign_in(c, server.url, "kim")  # a web session is not an upload token
        assert c.post(server.url + "/v1/files", content=fit,
                      headers={"Content-Type": "application/octet-stream"}).status_code == 401
    answer = httpx.post(server.url + "/v1/files", content=fit, timeout=60,
                        headers={"Authorization": f"Bearer {UPLOAD_TOKEN}", "Content-Type": "application/octet-stream"})
    assert answer.status_code == 201 and answer.json()["athlete"] == "ana"


def test_no_secret_in_a_page_a_cookie_or_the_log(server, caplog):
    caplog.set_level(logging.DEBUG)
    hashes = [u.password_hash.get_secret_value() for u in server.settings.web.users]
    with client() as c:
        sign_in(c, server.url, "kim", "wrong-password-here")
        sign_in(c, server.url, "kim")
        pages = [c.get(server.url + p).text for p in ("/coach", "/coach/athletes/ben", "/login")]
        cookies = " ".join(f"{k}={v}" for k, v in c.cookies.items())
    seen = "\n".join(pages) + cookies + caplog.text
    for secret in [*PASSWORDS.values(), "wrong-password-here", UPLOAD_TOKEN, *hashes]:
        assert secret not in seen
    for part in (h.split("$")[-1] for h in hashes):
        assert part not in seen


def test_tendon_serve_starts_one_server_for_pages_and_uploads(built, writable_db, tmp_path):
    """The command itself, as a process: prints the URL to open, serves both, stops on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tendon_pipeline.examples import generate as g

    token = (f'\n[[upload.tokens]]\nathlete = "ana"\ntoken_sha256 = '
             f'"{hashlib.sha256(UPLOAD_TOKEN.encode()).hexdigest()}"\n')
    settings = web_settings(built, writable_db, tmp_path, token)
    env = {**os.environ, "TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "TENDON_INBOX": str(tmp_path / "inbox")}
    proc = subprocess.Popen([sys.executable, "-m", "tendon_pipeline.cli", "--config", str(tmp_path / "web-config.toml"),
                             "--db", str(writable_db), "serve", "--port", "0", "--land-only"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"open (http://127\.0\.0\.1:\d+)/ in a browser", line)
        assert url, line + (proc.stdout.read() if proc.poll() is not None else "")
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(url.group(1) + "/login", timeout=30).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        with client() as c:
            assert sign_in(c, url.group(1), "kim").status_code == 303
            assert c.get(url.group(1) + "/coach").status_code == 200
        fit = g.fit_bytes(g.example_histories(weeks=3)["ana"][0])
        headers = {"Authorization": f"Bearer {UPLOAD_TOKEN}", "Content-Type": "application/octet-stream"}
        answer = httpx.post(url.group(1) + "/v1/files", content=fit, timeout=60, headers=headers)
        assert answer.status_code == 201 and (settings.inbox / answer.json()["file"]).exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0 and "stopped" in output and PASSWORDS["kim"] not in output


def test_tendon_serve_refuses_to_start_with_nobody_to_serve(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tendon_pipeline.cli.main import cli
    from tendon_pipeline.errors import ConfigError

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "w.duckdb"), "serve", "--port", "0"])
    assert isinstance(result.exception, ConfigError)
    assert "no [[web.users]] and no [[upload.tokens]]" in str(result.exception)
