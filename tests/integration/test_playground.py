"""The web playground in a real browser (Debian's headless Chromium driven through chromedriver)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_api_speech import expected_duration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="Debian chromium + chromium-driver are not installed (scripts/install.sh --test installs them)",
)

webdriver = pytest.importorskip("selenium.webdriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="ttsgate-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1000,900",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait_state(driver: object, states: set[str], timeout: float = 30) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    def state(d: object) -> str | bool:
        value = d.execute_script("return document.body.dataset.state || ''")  # type: ignore[attr-defined]
        return value if value in states else False

    return str(WebDriverWait(driver, timeout).until(state))


def test_playground_streams_and_plays_speech(browser: object, sine_url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    d = browser
    d.get(f"{sine_url}/")  # type: ignore[attr-defined]
    WebDriverWait(d, 20).until(lambda x: x.execute_script("return document.body.dataset.voices"))
    Select(d.find_element(By.ID, "voice")).select_by_value("zh_test")  # type: ignore[attr-defined]
    text = "你好世界。今天天气很好，我们去公园散步吧。"
    box = d.find_element(By.ID, "text")  # type: ignore[attr-defined]
    box.clear()
    box.send_keys(text)
    d.find_element(By.ID, "speak").click()  # type: ignore[attr-defined]
    assert _wait_state(d, {"done", "error"}) == "done", d.find_element(By.ID, "status").text  # type: ignore[attr-defined]
    seconds = float(d.execute_script("return document.body.dataset.seconds"))  # type: ignore[attr-defined]
    assert seconds == pytest.approx(expected_duration(sine_url, text), abs=0.02)
    segments = d.find_elements(By.CSS_SELECTOR, "#segments li")  # type: ignore[attr-defined]
    assert len(segments) >= 2
    assert "你好世界" in segments[0].text
    assert d.find_element(By.ID, "ttfa").text.endswith("ms")  # type: ignore[attr-defined]
    d.save_screenshot(str(tmp_path / "playground.png"))  # type: ignore[attr-defined]
    assert (tmp_path / "playground.png").stat().st_size > 10_000


def test_playground_shows_the_servers_error(browser: object, sine_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    d.get(f"{sine_url}/playground/")  # type: ignore[attr-defined]
    WebDriverWait(d, 20).until(lambda x: x.execute_script("return document.body.dataset.voices"))
    d.find_element(By.ID, "text").clear()  # type: ignore[attr-defined]
    d.find_element(By.ID, "text").send_keys("🙂")  # type: ignore[attr-defined]
    d.find_element(By.ID, "speak").click()  # type: ignore[attr-defined]
    assert _wait_state(d, {"done", "error"}) == "error"
    assert "nothing speakable" in d.find_element(By.ID, "status").text  # type: ignore[attr-defined]
