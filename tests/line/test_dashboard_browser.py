"""The line dashboard in a real browser (Debian's headless chromium through Selenium and chromedriver): it loads with
no console error, shows the figures the database holds for a seeded line, and updates when a unit finishes.

Set LINE_DASHBOARD_SCREENSHOT=path.png to keep the screenshot of the seeded dashboard (it is always taken)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.line.dashboard.server import DashboardServer
from tests.line.test_dashboard import add_measurements, add_unit, dashboard_conninfo, seed_line

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip("Debian's chromium and its driver are not installed: apt-get install chromium chromium-driver",
                allow_module_level=True)

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT_S = 30


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1920,1080", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def seeded(line_db_with_schema: Any) -> Any:
    with line_db_with_schema.connect() as conn:
        seed_line(conn)
    return line_db_with_schema


@pytest.fixture
def page(browser: Any, seeded: Any) -> Iterator[Any]:
    with DashboardServer(dashboard_conninfo(seeded), poll_s=0.2) as server:
        browser.get(server.url)
        browser.get_log("browser")  # nothing of an earlier page counts against this one
        browser.refresh()
        wait_for_text(browser, "#kpi-yield .value", "75.0 %")
        yield browser


def text(browser: Any, selector: str) -> str:
    return str(browser.find_element(By.CSS_SELECTOR, selector).text)


def wait_for_text(browser: Any, selector: str, expected: str) -> None:
    WebDriverWait(browser, WAIT_S).until(lambda b: text(b, selector) == expected,
                                         f"{selector} never showed {expected!r}")


def console_errors(browser: Any) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def test_loads_without_a_console_error_and_shows_the_seeded_line(page: Any, tmp_path: Path) -> None:
    assert text(page, "#kpi-fpy .value") == "68.8 %"  # 11 of 16 passed their first attempt
    assert text(page, "#kpi-failed .value") == "4"
    assert text(page, "#kpi-running .value") == "1"
    assert text(page, "#kpi-backlog .value") == "4"
    assert text(page, "#kpi-api .value") == "0.5 %"
    assert text(page, "#live") == "live"
    cards = page.find_elements(By.CSS_SELECTOR, "#stations .station")
    assert [card.get_attribute("data-station") for card in cards] == ["bench-1", "bench-2"]
    assert "offline" in (cards[1].get_attribute("class") or "")
    running = page.find_element(By.CSS_SELECTOR, '.station[data-station="bench-1"] .slot.running')
    assert "bench-1-11" in running.text and "flash" in running.text
    pareto = page.find_elements(By.CSS_SELECTOR, "#pareto .barlabel")
    assert [label.text for label in pareto] == ["flash verify", "device not found", "not online in time"]
    lots = [row.text.split()[0] for row in page.find_elements(By.CSS_SELECTOR, "#lots tbody tr")]
    assert sorted(lots) == ["LOT-A", "LOT-B"]
    assert page.find_elements(By.CSS_SELECTOR, "#hours svg rect.fail")
    assert page.find_elements(By.CSS_SELECTOR, "#cycle svg rect.bar")
    assert "No test measurements" in text(page, "#cpk")
    assert console_errors(page) == []

    height = page.execute_script("return document.body.scrollHeight")
    page.set_window_size(1920, max(1080, int(height) + 200))  # the window's frame is not page
    shot = Path(os.environ.get("LINE_DASHBOARD_SCREENSHOT") or tmp_path / "line-dashboard.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert page.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    page.set_window_size(1920, 1080)


def test_updates_when_a_unit_finishes(page: Any, seeded: Any) -> None:
    assert text(page, "#kpi-rate .value") == "16"
    with seeded.connect() as conn:
        add_unit(conn, "bench-2", 8, lot="LOT-B", state="FAIL", code="flash_verify", ended=time.time())
    wait_for_text(page, "#kpi-rate .value", "17")
    wait_for_text(page, "#kpi-failed .value", "5")
    assert text(page, "#kpi-yield .sub") == "12 of 17 tested"
    assert console_errors(page) == []


def test_a_measurement_with_too_few_values_shows_no_cpk(page: Any, seeded: Any) -> None:
    with seeded.connect() as conn:
        add_measurements(conn, "vbat", (3.29, 3.30, 3.31, 3.30, 3.30, 3.29, 3.31))
        add_measurements(conn, "vin", (3.29, 3.30, 3.31, 3.30, 3.30, 3.29) * 5, first_id=100)
        add_unit(conn, "bench-2", 8, lot="LOT-B", state="PASS", ended=time.time())  # the page updates on a unit
    WebDriverWait(page, WAIT_S).until(lambda b: "vbat" in text(b, "#cpk"), "the Cpk panel never showed vbat")
    rows = {row.text.split()[0]: row.text for row in page.find_elements(By.CSS_SELECTOR, "#cpk tbody tr")}
    assert rows["vbat"].endswith("n < 30"), rows
    assert rows["vin"].split()[-1].replace(".", "").isdigit(), rows  # 30 values: a Cpk
    assert console_errors(page) == []


def test_an_empty_line_shows_empty_panels_without_a_console_error(browser: Any, line_db_with_schema: Any) -> None:
    with DashboardServer(dashboard_conninfo(line_db_with_schema), poll_s=0.2) as server:
        browser.get(server.url)
        browser.get_log("browser")
        browser.refresh()
        WebDriverWait(browser, WAIT_S).until(lambda b: "No station" in text(b, "#stations"))
        assert text(browser, "#kpi-yield .value") == "–"
        assert "No unit finished" in text(browser, "#hours")
        assert "No failures" in text(browser, "#pareto")
        assert console_errors(browser) == []
