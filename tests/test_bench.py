"""The benchmark's own parts: its inputs say what it claims, and its memory meter sees the whole process tree.

No timing is asserted here (speed is for `make bench` to show); these check that the comparison it
prints is an honest one: the same text for engine and build, synthetic issues that are really new
speech, an edit that touches one item, settings that move everything into the bench's own folder.
"""

import sys

from audio_edition import build, feed, settings as settings_module, speak
from tools import bench

from conftest import REPO, SAMPLE_FEED, make_settings


def _issue(tmp_path):
    settings = make_settings(tmp_path, **{"newsletter.feed": str(SAMPLE_FEED)})
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), "latest")
    return settings, entry


def _texts(entry, settings):
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    return bench.spoken_script(entry, settings, lexicon)


def test_the_raw_engine_reads_what_the_build_says(settings):
    entry = feed.select(feed.read_entries(settings.newsletter.feed, settings.newsletter.issue_pattern), 7)
    built = build.build(entry, settings)
    spoken = (built.folder / built.episode.script).read_text(encoding="utf-8").splitlines()
    assert _texts(entry, settings) == spoken


def test_a_synthetic_issue_repeats_every_item_as_new_speech(tmp_path):
    settings, entry = _issue(tmp_path)
    once = _texts(entry, settings)
    thrice = _texts(bench.repeated(entry, 3), settings)
    _, script = build.prepare(bench.repeated(entry, 3), settings)
    assert 2.8 * len(once) < len(thrice) < 3.2 * len(once)
    assert sum(map(len, thrice)) > 2.9 * sum(map(len, once))
    # Only short, fixed phrases ("Rohin's opinion.") may repeat; nearly all the speech is new.
    assert sum(map(len, set(thrice))) > 0.95 * sum(map(len, thrice))
    assert [c.title for c in script.chapters].count("Highlights") == 1


def test_an_edit_changes_one_item_only(tmp_path):
    settings, entry = _issue(tmp_path)
    before, after = _texts(entry, settings), _texts(bench.edited(entry), settings)
    changed = [a for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and 1 <= len(changed) <= 3


def test_the_bench_feed_and_settings_read_back_as_the_issue_and_its_folder(tmp_path):
    settings, entry = _issue(tmp_path)
    bench.write_feed(entry, tmp_path / "feed.xml")
    moved = settings_module.load(REPO / "edition.toml", bench.moved(tmp_path / "work", tmp_path / "feed.xml"))
    assert moved.paths.cache == tmp_path / "work" / "cache" and moved.paths.public == tmp_path / "work" / "public"
    assert moved.audio == settings.audio and moved.voice == settings.voice and moved.speed == settings.speed
    [read] = feed.read_entries(moved.newsletter.feed, moved.newsletter.issue_pattern)
    assert (read.number, read.title, read.guid, read.published) == (entry.number, entry.title, entry.guid, entry.published)
    assert build.prepare(read, moved)[1] == build.prepare(entry, settings)[1]


def test_peak_memory_counts_the_children_too(tmp_path):
    # The parent holds 50 MB, its child 150 MB more: only the tree's sum reaches 200 MB.
    child = "import time; b = bytearray(150 << 20); time.sleep(1.5)"
    parent = f"import subprocess, sys; b = bytearray(50 << 20); subprocess.run([sys.executable, '-c', {child!r}])"
    run = bench.measure([sys.executable, "-c", parent])
    assert run.peak_mb >= 200
    assert run.cpu >= 0 and run.seconds >= 1.5


def test_a_failing_run_stops_the_bench_with_its_error(tmp_path):
    try:
        bench.measure([sys.executable, "-c", "import sys; sys.exit('no such voice')"])
    except SystemExit as exc:
        assert "no such voice" in str(exc)
    else:
        raise AssertionError("the bench went on after a failed run")



def test_a_child_not_yet_running_its_own_program_is_not_counted_twice(tmp_path):
    # Between fork and exec a child runs in its parent's memory (the build starts an ffmpeg per block);
    # /proc shows that memory as the child's too. Here the child stays in that state for a second.
    parent = ("import os, time; b = bytearray(300 << 20); pid = os.fork()\n"
              "if pid == 0: time.sleep(1.0); os._exit(0)\n"
              "os.waitpid(pid, 0)")
    run = bench.measure([sys.executable, "-c", parent])
    assert 300 <= run.peak_mb < 450


def test_the_ratio_compares_runs_made_back_to_back_not_the_fastest_of_each():
    """A fast minute gave the raw engines 40 s once; the cold build beside them took 44 s, not the 38 s of
    another minute: the ratio shown is a round's, the median one; engines run one after the other add up."""
    run = lambda seconds: bench.Run(seconds, 2 * seconds, 900)  # noqa: E731
    rounds = [bench.Cold({"piper": run(30), "hibari": run(s - 30)}, run(100), run(c), run(c))
              for s, c in ((50, 38), (40, 44), (60, 62))]
    chosen = bench.median_round(rounds)
    assert (chosen.floor.seconds, chosen.build.seconds) == (60, 62)  # ratios 0.76, 1.10, 1.03: the median is 1.03
    assert chosen.floor.cpu == 120 and chosen.floor.peak_mb == 900
