"""`make bench`: the figures behind the README's Performance section, measured side by side in one run.

Each run is a separate process (its startup counted) timed from start to exit, with the resident
memory of its whole process tree (ffmpeg included) sampled every 50 ms:

- the raw Piper command line speaking the issue's spoken script (script.txt, one segment a line);
- `audio-edition episode` on the same issue, with an empty speech cache and no episode built (cold);
- the same command again, nothing changed (warm);
- again after one item's text was edited, with the time its changed segments take to synthesize;
- cold builds of synthetic issues that repeat the issue's items under new sections, to show how time
  and memory grow with length (every repeated sentence is made different, so the cache cannot help);
- the ways of running the engine on two cores, on the first segments: one process with the engine's
  threads, as Piper runs by default and as the build tunes it, and worker processes of one thread.

Everything happens in a temporary folder; the project's episodes/, public/ and speech cache are not touched.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from . import build, feed, manifest, speak
from .model import Entry, Role, Script, Segment
from .settings import Settings, load, resolve_source

log = logging.getLogger(__name__)

PATTERN = r"^\s*\[AN #(?P<number>\d+)\]"
MARKS = ["", "again", "anew", "once more", "still", "too", "as well", "likewise", "in turn", "all over again",
         "in return", "at length"]
"""Words that make each repetition of an item say something different (one per copy)."""


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu: float
    """CPU seconds of the whole process tree (user + system)."""
    peak_mb: int
    """Largest resident memory of the process tree at any sample, MB."""


def measure(command: list[str], stdin: Path | None = None) -> Run:
    """Run `command` to completion; its wall time, CPU time and peak resident memory (whole tree)."""
    started = time.monotonic()
    with open(stdin or os.devnull, "rb") as source, tempfile.TemporaryFile("w+b") as errors:
        process = subprocess.Popen(command, stdin=source, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.05)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode("utf-8", "replace")[-2000:]
            raise SystemExit(f"bench: {' '.join(command[:6])} ... failed:\n{tail}")
    return Run(round(seconds, 1), round(usage.ru_utime + usage.ru_stime, 1), peak // 1024)


def _tree_rss(root: int) -> int:
    """Resident memory (kB) of a process and all its descendants, from /proc; 0 where there is no /proc.

    A child caught between fork and exec (the build starts an ffmpeg per block) still runs in its
    parent's memory, which /proc reports as the child's own: such a child (same program, same size
    as its parent) is counted once, with its parent, or the tree would seem to hold twice the build."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(name))
    total, pending = 0, [(root, None)]
    while pending:
        pid, parent = pending.pop()
        memory = _memory(pid)
        if memory is None:
            continue
        pending += [(child, memory) for child in children.get(pid, [])]
        if parent is None or (memory[0], memory[1]) != (parent[0], parent[1]):
            total += memory[2]
    return total


def _memory(pid: int) -> tuple[str, int, int] | None:
    """(program, virtual size kB, resident kB) of a process, or None if it is gone."""
    try:
        program = os.readlink(f"/proc/{pid}/exe")
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        return program, int(status.get("VmSize", "0 kB").split()[0]), int(status.get("VmRSS", "0 kB").split()[0])
    except (OSError, ValueError):
        return None


# -- the inputs: the issue, its script, synthetic longer issues, an edited one ------------------------------------


def spoken_script(entry: Entry, settings: Settings, lexicon: speak.Lexicon) -> list[str]:
    """What the build writes to script.txt: each segment's spoken text, one a line."""
    _, script = build.prepare(entry, settings)
    lines = [speak.spoken_text(segment, lexicon) for segment in script.segments]
    return [line for line in lines if line]


def repeated(entry: Entry, times: int) -> Entry:
    """The issue with its sections and items repeated `times` times; every copy after the first says each
    paragraph a little differently (a word added at the end of each stretch of text), so each is new speech."""
    import lxml.html

    root = lxml.html.fragment_fromstring(entry.content, create_parent="div")
    blocks = list(root)
    first = next((i for i, el in enumerate(blocks) if isinstance(el.tag, str) and re.fullmatch(r"h[1-6]", el.tag)), 0)
    for copy_number in range(1, times):
        for block in blocks[first:]:
            twin = copy.deepcopy(block)
            _reword(twin, MARKS[copy_number % len(MARKS)] or "again")
            root.append(twin)
    content = "".join(lxml.html.tostring(el, encoding="unicode") for el in root)
    return dataclasses.replace(entry, content=content)


def edited(entry: Entry, words: str = "as the editor notes") -> Entry:
    """The issue with one item's text changed (`words` added): the first item after the second top-level heading."""
    import lxml.html

    root = lxml.html.fragment_fromstring(entry.content, create_parent="div")
    headings = [el for el in root if el.tag == "h1"]
    anchor = headings[1] if len(headings) > 1 else headings[0]
    item = next(el for el in anchor.itersiblings() if el.tag == "p")
    _reword(item, words)
    return dataclasses.replace(entry, content="".join(lxml.html.tostring(el, encoding="unicode") for el in root))


def _reword(element, word: str) -> None:
    heading = bool(re.fullmatch(r"h[1-6]", str(element.tag)))  # a new section: "Highlights, again"
    for node in element.iter():
        for attr in ("text", "tail"):
            if node is element and attr == "tail":
                continue
            text = getattr(node, attr) or ""
            # Leave short leads ("Rohin's opinion:") alone: they say who speaks, and stay recognisable.
            if (heading and text.strip() or len(re.findall(r"[A-Za-z]+", text)) >= 3) and "opinion" not in text:
                setattr(node, attr, re.sub(r"\s*([.!?:;)]*)\s*$", lambda m: f", {word}{m.group(1)} ", text, count=1))


def write_feed(entry: Entry, path: Path) -> None:
    """A one-issue RSS feed carrying `entry`, as the newsletter's own feed would."""
    from xml.sax.saxutils import escape

    content = entry.content.replace("]]>", "]]]]><![CDATA[>")
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Benchmark</title>'
        f"<link>https://example.org/</link><description>bench</description><item>"
        f"<title>{escape(f'[AN #{entry.number}]: {entry.title}')}</title><link>{escape(entry.link)}</link>"
        f'<guid isPermaLink="false">{escape(entry.guid)}</guid><pubDate>{format_datetime(entry.published)}</pubDate>'
        f"<description><![CDATA[{content}]]></description></item></channel></rss>\n",
        encoding="utf-8",
    )


def settings_file(settings: Settings, folder: Path, feed_path: Path) -> Path:
    """The project's settings with the feed, episodes/, public/ and the speech cache moved into `folder`."""
    moved = settings.replace(**{
        "newsletter.feed": str(feed_path), "newsletter.issue_pattern": PATTERN,
        "paths.episodes": str(folder / "episodes"), "paths.public": str(folder / "public"),
        "paths.cache": str(folder / "cache"),
    })
    lines = []
    for table in dataclasses.fields(moved):
        if table.name == "root":
            continue
        lines.append(f"[{table.name}]")
        for item in dataclasses.fields(getattr(moved, table.name)):
            lines.append(f"{item.name} = {_toml(getattr(getattr(moved, table.name), item.name))}")
        lines.append("")
    path = folder / "edition.toml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def episode_command(settings_path: Path, number: int) -> list[str]:
    return [sys.executable, "-m", "audio_edition", "--settings", str(settings_path), "-q", "episode", "--issue", str(number)]


# -- the engine, three ways (run in a child process by `--engine MODE`) -----------------------------------------


ENGINE_MODES = {
    "default": "one sentence at a time on onnxruntime's threads (as the raw engine)",
    "build": "sentences in parallel, one thread each, one session (the build)",
    "processes": "worker processes of one thread each, a session each",
}


def engine_run(mode: str, settings: Settings, texts: list[str]) -> None:
    """Speak `texts` (segments, in order) the way `mode` names (see ENGINE_MODES)."""
    if mode == "processes":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        lines = [line.spoken for text in texts for line in speak.spoken_lines(text, speak.Lexicon())]
        with ProcessPoolExecutor(os.cpu_count() or 2, multiprocessing.get_context("spawn"),
                                 initializer=_worker_start,
                                 initargs=(str(settings.paths.voices), settings.voice.profile)) as pool:
            for _ in pool.map(_worker_speak, lines):
                pass
        return
    profile = speak.load_profile(settings.paths.voices, settings.voice.profile)
    if mode == "default":
        voice = profile.voice(Role.NARRATOR)
        for text in texts:
            for line in speak.spoken_lines(text, speak.Lexicon()):
                voice.speak(line.spoken)
        return
    script = Script(0, "bench", (), tuple(Segment(f"s{n}", text, 0) for n, text in enumerate(texts)))
    with tempfile.TemporaryDirectory() as tmp:
        planned = speak.plan(script, profile, speak.Lexicon())
        for _ in speak.synthesize(planned, profile, speak.SpeechCache(Path(tmp)), settings.speed.threads):
            pass


_WORKER: dict = {}


def _worker_start(voices: str, name: str) -> None:
    profile = speak.load_profile(Path(voices), name)
    speak.tune(profile, 1)
    _WORKER["voice"] = profile.voice(Role.NARRATOR)


def _worker_speak(line: str) -> int:
    return len(_WORKER["voice"].speak(line))


# -- the benchmark -------------------------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        model = found.group(1).strip() if found else model
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, AttributeError):
        pass
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{model}, {os.cpu_count()} cores{memory}, {system}"


def load_averages() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audio_edition.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="edition.toml")
    parser.add_argument("--issue", default="latest", help="issue of the settings' feed to measure (default: latest)")
    parser.add_argument("--scale", default="4,10",
                        help="synthetic lengths to build cold, in copies of the issue (default: 4,10)")
    parser.add_argument("--engine-segments", type=int, default=12, help="segments the engine comparison speaks (0: skip it)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the raw engine, cold, warm and edited builds: raw and cold alternate and "
                             "the median pair counts, the best of the rest (default: 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    settings = load(args.settings)
    if args.engine:
        engine_run(args.engine, settings, Path(args.texts).read_text(encoding="utf-8").splitlines())
        return 0
    work = Path(tempfile.mkdtemp(prefix="audio-edition-bench-"))
    try:
        print(bench(settings, args, work))
    finally:
        if args.keep:
            print(f"(the runs' files are in {work})", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def bench(settings: Settings, args: argparse.Namespace, work: Path) -> str:
    source = resolve_source(settings, settings.newsletter.feed)
    entry = feed.select(feed.read_entries(source, settings.newsletter.issue_pattern), args.issue)
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    profile = speak.load_profile(settings.paths.voices, settings.voice.profile)
    narrator = profile.voice(Role.NARRATOR)
    if not hasattr(narrator, "model"):
        raise SystemExit("bench: the raw engine is Piper's command line, and this profile's narrator is not a Piper voice")
    started, load_before = datetime.now(timezone.utc), load_averages()
    lines = spoken_script(entry, settings, lexicon)
    script = work / "script.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_feed(entry, work / "feed.xml")
    raw_command = [sys.executable, "-m", "piper", "-m", str(narrator.model), "-f", str(work / "raw.wav")]
    slug = manifest.slug(entry.number)

    raws, colds = [], []
    for attempt in range(args.repeat):  # alternated, so that a busy minute on the machine hits both alike
        _say(f"raw engine ({attempt + 1}/{args.repeat}): python -m piper, the {len(lines)} segments of #{entry.number}")
        raws.append(measure(raw_command, stdin=script))
        folder = work / f"issue{attempt}"
        command = episode_command(settings_file(settings, folder, work / "feed.xml"), entry.number)
        _say(f"cold build ({attempt + 1}/{args.repeat}): audio-edition episode, empty cache")
        colds.append(measure(command))
    episode = manifest.read(folder / "episodes" / slug)
    cache = speak.SpeechCache(folder / "cache" / "speech")

    warms = []
    for attempt in range(args.repeat):
        _say(f"warm rebuild ({attempt + 1}/{args.repeat}): nothing changed")
        before = len(cache.keys())
        warms.append((measure(command), len(cache.keys()) - before))

    edits = []
    for attempt in range(args.repeat):
        changed = edited(entry, EDITS[attempt % len(EDITS)] + " once more" * (attempt // len(EDITS)))
        differing = [text for text in spoken_script(changed, settings, lexicon) if text not in set(lines)]
        write_feed(changed, work / "feed.xml")
        _say(f"one item edited ({attempt + 1}/{args.repeat}): {len(differing)} segments differ")
        before = len(cache.keys())
        run = measure(command)
        synthesis = _synthesis_seconds(profile, settings, changed, differing, lexicon)
        edits.append((run, len(cache.keys()) - before, len(differing), synthesis))

    rows = [(1, episode, median_pair(raws, colds)[1])]
    for copies in [int(n) for n in args.scale.split(",") if n.strip()]:
        where = work / f"x{copies}"
        where.mkdir()
        write_feed(repeated(entry, copies), where / "feed.xml")
        _say(f"cold build of a synthetic issue {copies}x as long")
        run = measure(episode_command(settings_file(settings, where, where / "feed.xml"), entry.number))
        rows.append((copies, manifest.read(where / "episodes" / slug), run))

    engines = []
    if args.engine_segments:
        texts = work / "texts.txt"
        texts.write_text("\n".join(lines[: args.engine_segments]) + "\n", encoding="utf-8")
        for mode in ENGINE_MODES:
            _say(f"engine on the first {args.engine_segments} segments: {ENGINE_MODES[mode]}")
            engines.append((mode, measure([sys.executable, "-m", "audio_edition.bench", "--settings", str(args.settings),
                                           "--engine", mode, "--texts", str(texts)])))
    return _table(entry, started, load_before, args.repeat, raws, colds, warms, edits, rows, engines, args.engine_segments)


EDITS = ["as the editor notes", "the editor adds", "as the editor says"]
"""Words an edit adds to one item (different words each time the edit is measured, so each is new speech)."""


def _say(text: str) -> None:
    print(f"bench: {text} ...", file=sys.stderr, flush=True)


def _synthesis_seconds(profile, settings: Settings, entry: Entry, differing: list[str], lexicon) -> float:
    """How long the engine takes to say the changed segments as the build does (a few sentences: one at a
    time on the engine's own threads), with its session already warm."""
    speak.tune(profile, 0)
    _, script = build.prepare(entry, settings)
    wanted = set(differing)
    segments = [s for s in script.segments if speak.spoken_text(s, lexicon) in wanted]
    profile.voice(Role.NARRATOR).speak("Warming up.")
    started = time.monotonic()
    for segment in segments:
        voice = profile.voice(segment.role)
        for line in speak.spoken_lines(segment.text, lexicon):
            voice.speak(line.spoken)
    return round(time.monotonic() - started, 1)


def median_pair(raws: list, colds: list) -> tuple:
    """The raw engine and the cold build, run back to back, as the pair whose ratio is the median. The
    machine's speed drifts by a fifth from one minute to the next (a shared host); the two runs of a
    pair see the same minute, while the fastest of each could come from different ones."""
    pairs = sorted(zip(raws, colds), key=lambda pair: pair[1].seconds / pair[0].seconds)
    return pairs[(len(pairs) - 1) // 2]


def _table(entry, started, load_before, repeat, raws, colds, warms, edits, rows, engines, engine_segments) -> str:
    raw, cold = median_pair(raws, colds)
    ratios = ", ".join(f"{c.seconds / r.seconds:.2f}" for r, c in zip(raws, colds))
    warm, warm_new = min(warms, key=lambda w: w[0].seconds)
    honest = [e for e in edits if e[1] > 0]  # an edit that found its speech already cached measures nothing
    if not honest:
        raise SystemExit("bench: every edited build found its speech in the cache; the edits are not new speech")
    one, one_new, one_changed, synthesis = min(honest, key=lambda e: e[0].seconds - e[3])
    how = (f"wall time; raw and cold: the median of {repeat} back-to-back pairs, the rest: best of {repeat}"
           if repeat > 1 else "wall time")
    out = [
        f"audio-edition benchmark, {started:%Y-%m-%d %H:%M} UTC, issue #{entry.number}",
        f"machine: {machine()}",
        f"load averages (1, 5, 15 min): {load_before} before, {load_averages()} after",
        "",
        f"| run ({how}) | wall s | CPU s | peak RSS MB | |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| raw engine: python -m piper, same script | {raw.seconds} | {raw.cpu} | {raw.peak_mb} | |",
        f"| cold build, empty cache | {cold.seconds} | {cold.cpu} | {cold.peak_mb} | "
        f"**{cold.seconds / raw.seconds:.2f}x** the raw engine" + (f" (pairs: {ratios})" if repeat > 1 else "") + " |",
        f"| warm rebuild, nothing changed | {warm.seconds} | {warm.cpu} | {warm.peak_mb} | "
        f"**{100 * warm.seconds / cold.seconds:.1f}%** of the cold build; {warm_new} segments synthesized |",
        f"| one item edited | {one.seconds} | {one.cpu} | {one.peak_mb} | {one_new} segments synthesized "
        f"({one_changed} changed), {synthesis} s of synthesis **+ {one.seconds - synthesis:.1f} s** |",
        "",
        "| length (cold) | segments | audio min | wall s | s per audio min | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for copies, episode, run in rows:
        minutes = episode.duration / 60
        out.append(f"| {copies}x | {len(episode.extra.get('segments', []))} | {minutes:.1f} | {run.seconds} | "
                   f"{run.seconds / minutes:.2f} | {run.peak_mb} |")
    if engines:
        out += ["", f"| engine on {os.cpu_count()} cores, first {engine_segments} segments | wall s | CPU s | peak RSS MB |",
                "| --- | ---: | ---: | ---: |"]
        out += [f"| {ENGINE_MODES[mode]} | {run.seconds} | {run.cpu} | {run.peak_mb} |" for mode, run in engines]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
