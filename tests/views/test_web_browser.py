"""The web pages in a real browser: Debian's Chromium driven by chromium-driver through
Selenium, against `tendon serve`'s app on a loopback port.

Screenshots of each page go to $WEB_TEST_SCREENSHOTS (the note's figures), else to the test's
temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from web_helpers import PASSWORDS, serve, web_settings

from tendon_pipeline.warehouse.store import open_warehouse

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
PHONE = (375, 812)
DESKTOP = (1200, 900)


def _need_browser() -> None:
    missing = [name for name, path in (("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER)) if path is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must test the web pages in a browser: install {' '.join(missing)} (apt-get install -y ...)")
    pytest.skip(f"{' and '.join(missing)} not installed (apt-get install -y chromium chromium-driver):"
                " the web pages were not tested in a browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def server(built, writable_db, tmp_path, browser):
    browser.delete_all_cookies()
    with serve(web_settings(built, writable_db, tmp_path)) as running:
        yield running


@pytest.fixture
def screens(tmp_path) -> Path:
    folder = Path(os.environ.get("WEB_TEST_SCREENSHOTS") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _size(driver, width_height) -> None:
    driver.set_window_size(*width_height)


def _sign_in(driver, url: str, name: str, screens: Path | None = None) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORDS[name])
    if screens is not None:
        _shot(driver, screens / "login.png")
    driver.find_element(By.ID, "sign-in").click()


def _shot(driver, path: Path, *, full: bool = True) -> None:
    """The whole page (the window grown to the page's height, then put back), or what the
    window shows (``full=False``: a phone's screen)."""
    if not full:
        driver.save_screenshot(str(path))
        assert path.stat().st_size > 5000
        return
    width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
    full = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, min(max(height, full + 120), 12000))
    driver.save_screenshot(str(path))
    driver.set_window_size(width, height)
    assert path.stat().st_size > 5000


def _wait(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _charts_drawn(driver) -> int:
    return driver.execute_script("return document.querySelectorAll('.js-plotly-plot[data-drawn=\"true\"]').length")


def test_a_coach_signs_in_and_sees_the_worst_athlete_first(browser, server, screens):
    from selenium.webdriver.common.by import By

    _size(browser, DESKTOP)
    browser.get(server.url + "/coach")
    assert "/login" in browser.current_url  # signed out: to the sign-in page first
    _sign_in(browser, server.url, "kim", screens)
    _wait(browser, lambda d: d.current_url.endswith("/coach"))
    cards = browser.find_elements(By.CSS_SELECTOR, "section.athlete")
    assert [c.get_attribute("data-athlete") for c in cards] == ["ben", "cleo", "ana"]
    first = cards[0].text
    assert "HIGH" in first and "session_spike" in first and "increase_pct =" in first and "5 days ago" in first
    _shot(browser, screens / "coach.png")


def test_a_coach_records_feedback_on_an_alert(browser, server, screens):
    from selenium.webdriver.common.by import By

    _size(browser, DESKTOP)
    browser.get(server.url + "/login")
    _sign_in(browser, server.url, "kim")
    _wait(browser, lambda d: d.current_url.endswith("/coach"))
    browser.find_element(By.LINK_TEXT, "ben").click()
    _wait(browser, lambda d: _charts_drawn(d) == 5)  # the report's five charts, drawn live
    card = browser.find_element(By.CSS_SELECTOR, "div.alert")
    key = card.get_attribute("data-alert-key")
    card.find_element(By.CSS_SELECTOR, "input[value=false_alarm]").click()
    card.find_element(By.NAME, "note").send_keys("he ran a race on purpose")
    card.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    flash = _wait(browser, lambda d: d.find_elements(By.ID, "flash"))[0]
    assert flash.text.startswith("Saved: false alarm") and key in flash.text
    card = browser.find_element(By.CSS_SELECTOR, f"div.alert[data-alert-key='{key}']")
    assert "false alarm by kim" in card.text and "he ran a race on purpose" in card.text
    _wait(browser, lambda d: _charts_drawn(d) == 5)
    _shot(browser, screens / "athlete.png")
    with open_warehouse(server.db) as wh:
        stored = wh.con.execute("SELECT outcome, given_by, note FROM alert_feedback WHERE alert_key = ?"
                                " AND note LIKE 'he ran%'", [key]).fetchall()
    assert stored == [("false_alarm", "kim", "he ran a race on purpose")]


def test_another_coachs_athlete_is_not_found(browser, server, screens):
    from selenium.webdriver.common.by import By

    _size(browser, DESKTOP)
    browser.get(server.url + "/login")
    _sign_in(browser, server.url, "lee")  # Lee coaches ana only
    _wait(browser, lambda d: d.current_url.endswith("/coach"))
    cards = browser.find_elements(By.CSS_SELECTOR, "section.athlete")
    assert [c.get_attribute("data-athlete") for c in cards] == ["ana"]
    browser.get(server.url + "/coach/athletes/ben")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    status = browser.execute_async_script(
        "const done = arguments[0]; fetch('/coach/athletes/ben').then(r => done(r.status));")
    assert status == 404
    _shot(browser, screens / "other-coach-404.png")


def test_a_runner_checks_in_on_a_phone_and_sees_the_plan_change(browser, server, screens):
    from selenium.webdriver.common.by import By

    _size(browser, PHONE)
    browser.get(server.url + "/login")
    _sign_in(browser, server.url, "ana")
    _wait(browser, lambda d: d.current_url.endswith("/runner"))
    assert browser.execute_script("return window.innerWidth") <= 375
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), \
        "the runner page is wider than a phone"
    before = browser.find_element(By.ID, "plan-status").text
    km_before = browser.find_element(By.ID, "plan-km").text
    links = browser.find_elements(By.CSS_SELECTOR, "#plan-downloads a")  # next week on the watch and calendar
    fit = next(a.get_attribute("href") for a in links if a.get_attribute("href").endswith(".fit"))
    head = browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.arrayBuffer())"
        ".then(b => done(String.fromCharCode(...new Uint8Array(b).slice(8, 12))))"
        ".catch(e => done('failed: ' + e));", fit)
    assert head == ".FIT"  # the downloaded workout is a FIT file
    browser.execute_script("document.getElementById('plan-downloads').scrollIntoView()")
    _shot(browser, screens / "runner-downloads.png", full=False)

    def fill(**fields: str) -> None:
        for name, value in fields.items():
            element = browser.find_element(By.ID, name)
            element.clear()
            element.send_keys(value)
        browser.find_element(By.ID, "save-checkin").click()

    fill(exercise="eccentric_heel_drop", sets="0", reps="12")  # refused, as `tendon log strength --sets 0` is
    error = _wait(browser, lambda d: d.find_elements(By.ID, "error-sets"))[0]
    assert "sets must be between 1 and 50 (got 0)" in error.text
    assert browser.find_element(By.ID, "exercise").get_attribute("value") == "eccentric_heel_drop"  # kept
    browser.execute_script("document.getElementById('checkin').scrollIntoView()")
    _shot(browser, screens / "runner-checkin-error.png", full=False)
    browser.find_element(By.ID, "sets").clear()
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "variant")).select_by_value("two_leg")
    fill(during="7", next_morning="5", sets="3")
    flash = _wait(browser, lambda d: d.find_elements(By.ID, "flash"))[0]
    assert "pain during 7/10, next morning 5/10" in flash.text and "eccentric heel drop: 3 x 12 (two leg)" in flash.text
    after = browser.find_element(By.ID, "plan-status").text
    assert "Plan changed" in flash.text and (after, browser.find_element(By.ID, "plan-km").text) != (before, km_before)
    assert after == "pain"
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.execute_script("window.scrollTo(0, 0)")
    _shot(browser, screens / "runner-phone.png", full=False)
    _shot(browser, screens / "runner-phone-full.png")
    with open_warehouse(server.db) as wh:
        assert wh.con.execute("SELECT during, next_morning FROM pain_log WHERE athlete_id = 'ana'"
                              " ORDER BY logged_at DESC LIMIT 1").fetchone() == (7, 5)
        assert wh.con.execute("SELECT status FROM plans WHERE athlete_id = 'ana' ORDER BY week_start DESC"
                              " LIMIT 1").fetchone() == ("pain",)
