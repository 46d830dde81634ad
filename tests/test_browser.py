"""The site in a real browser: headless Chromium (Debian's) against `audio-edition serve` on 127.0.0.1.

Skipped, with the reason, where Chromium is not installed (`apt-get install chromium chromium-driver`);
CI installs it. Screenshots go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import shutil
import subprocess
import sys
import threading

import pytest

from audio_edition import manifest
from conftest import REPO

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="headless Chromium is not installed (apt-get install chromium chromium-driver)",
)


@contextlib.contextmanager
def serving(settings, tmp_path):
    """`audio-edition serve --port 0` as a user runs it; yields its URL and the lines it logged so far."""
    settings_file = tmp_path / "serve.toml"
    settings_file.write_text(f'[paths]\npublic = "{settings.paths.public}"\n')
    process = subprocess.Popen(
        [sys.executable, "-m", "audio_edition", "--settings", str(settings_file), "serve", "--port", "0"],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    try:
        url = None
        while url is None:
            line = lines.get(timeout=30)
            found = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            url = found and found[1]
        yield url, lines
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def chromium(tmp_path, javascript: bool = True):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--mute-audio", f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,1400"):
        options.add_argument(flag)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver, script: str, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script))


def test_a_listener_plays_the_episode_and_jumps_to_a_chapter(published_site, tmp_path):
    from selenium.webdriver.common.by import By

    episode = manifest.read(published_site.paths.episodes / "an-007")
    chapters = json.loads((published_site.paths.episodes / "an-007" / "chapters.json").read_text())["chapters"]
    with serving(published_site, tmp_path) as (url, log), chromium(tmp_path) as driver:
        driver.get(url)
        titles = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "article.episode .title a")]
        assert titles == ["Small tests of a big pipeline"]

        # The player reads the MP3's metadata, which it fetches in byte ranges.
        duration = wait(driver, "const a = document.querySelector('audio');"
                                " return a.readyState >= 1 && a.duration > 0 && a.duration;")
        assert duration == pytest.approx(episode.duration, abs=0.5)

        chapter = chapters[2]
        link = driver.find_element(By.CSS_SELECTOR, f".chapters a[data-seek='{chapter['startTime']}']")
        assert chapter["title"] in link.text
        link.click()
        at = wait(driver, "const a = document.querySelector('audio');"
                          f" return !a.seeking && Math.abs(a.currentTime - {chapter['startTime']}) < 1.5"
                          " && a.currentTime;")
        assert at == pytest.approx(chapter["startTime"], abs=1.5)
        assert driver.current_url == url, "the page stays; only the player moves"
        wait(driver, "return document.querySelector('.chapters a[aria-current]') !== null")
        current = driver.find_element(By.CSS_SELECTOR, ".chapters a[aria-current]")
        assert chapter["title"] in current.text

        ARTIFACTS.mkdir(exist_ok=True)
        driver.execute_script("document.querySelector('audio').pause(); window.scrollTo(0, 0);")
        driver.save_screenshot(str(ARTIFACTS / "site-desktop.png"))
        driver.set_window_size(390, 1400)
        driver.get(url + "episodes/an-007.html")
        wait(driver, "return document.querySelector('audio').readyState >= 1")
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), \
            "nothing wider than a phone's screen"
        driver.save_screenshot(str(ARTIFACTS / "site-phone.png"))

    served = []
    while not log.empty():
        served.append(log.get())
    assert any("an-007.mp3" in line and '" 206 ' in line for line in served), "the browser fetched byte ranges"
    for name in ("site-desktop.png", "site-phone.png"):
        assert (ARTIFACTS / name).read_bytes().startswith(b"\x89PNG")


def test_without_javascript_a_chapter_link_opens_the_audio_at_that_time(published_site, tmp_path):
    from selenium.webdriver.common.by import By

    with serving(published_site, tmp_path) as (url, _), chromium(tmp_path, javascript=False) as driver:
        driver.get(url)
        assert driver.find_element(By.CSS_SELECTOR, "button[data-copy]").is_displayed() is False
        assert "Small tests of a big pipeline" in driver.find_element(By.CSS_SELECTOR, "article .title").text
        transcript = driver.find_element(By.CSS_SELECTOR, "details.transcript")
        transcript.find_element(By.TAG_NAME, "summary").click()
        assert "It pays $40,000 a year." in transcript.text
        link = driver.find_elements(By.CSS_SELECTOR, ".chapters a[data-seek]")[1]
        start = link.get_attribute("data-seek")
        link.click()
        assert driver.current_url == f"{url}episodes/an-007/an-007.mp3#t={start}"
