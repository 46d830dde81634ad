"""The command line as a user meets it: one clear line for an expected failure, never a traceback."""

import subprocess
import sys

from conftest import REPO, SMALL_FEED


def run(*args: str, cwd=REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "audio_edition", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_an_unreachable_feed_is_one_line_and_status_1(tmp_path):
    result = run("--set", "fetch.retries=1", "--set", "fetch.backoff=0.1", "script", "--feed", "http://127.0.0.1:9/feed.xml")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: cannot fetch feed http://127.0.0.1:9/feed.xml: connection refused by 127.0.0.1:9 (tried 2 times)"]
    assert "Traceback" not in result.stderr


def test_an_issue_that_does_not_exist_is_named():
    result = run("script", "--feed", str(SMALL_FEED), "--issue", "42")
    assert result.returncode == 1
    assert "error: issue #42 is not in the feed (it lists #6, #7)" in result.stderr
    assert "Traceback" not in result.stderr


def test_script_prints_one_spoken_segment_per_line():
    result = run("script", "--feed", str(SMALL_FEED), "--issue", "7")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("This is the audio edition of the Alignment Newsletter, number seven")
    assert "It pays forty thousand dollars a year." in lines


def test_say_text_only_prints_the_spoken_form():
    result = run("say", "--text-only", "See AN #58 for $5.")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "See Alignment Newsletter number fifty-eight for five dollars."


def test_say_writes_a_wav_of_real_speech(tmp_path):
    out = tmp_path / "hello.wav"
    result = run("--settings", str(REPO / "edition.toml"), "say", "Hello, listener.", "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    import wave

    with wave.open(str(out)) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.5


def test_a_bad_setting_is_named(tmp_path):
    bad = tmp_path / "edition.toml"
    bad.write_text("[audio]\nloudnes = -16\n")
    result = run("--settings", str(bad), "script")
    assert result.returncode == 1
    assert f"error: {bad}: unknown setting audio.loudnes" in result.stderr


def test_an_editors_publish_waits_for_a_running_watch_job(tmp_path):
    import threading
    import time

    from audio_edition import lock

    held = threading.Event()
    released = []

    def hold():
        with lock.hold(tmp_path / "episodes" / ".watch"):
            held.set()
            time.sleep(2)
            released.append(time.monotonic())

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    result = run("--settings", str(REPO / "edition.toml"), "--set", f"paths.episodes={tmp_path}/episodes",
                 "--set", f"paths.public={tmp_path}/public", "publish", cwd=tmp_path)
    finished = time.monotonic()
    holder.join()
    assert result.returncode == 0, result.stderr
    assert "waiting for another run" in result.stderr
    assert finished >= released[0], "publish ran only after the job let go"
    assert (tmp_path / "public" / "feed.xml").exists()
