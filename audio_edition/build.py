"""Build one episode: the whole pipeline for an issue, assembled in one place (entry -> ... -> episodes/<slug>/)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import inputs
from . import issue as issue_stage
from . import manifest, mix, podcast, script as script_stage, speak, tags, timeline
from .errors import IssueError, PublishError
from .model import Entry, Episode, Issue, Script
from .progress import track
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Built:
    episode: Episode
    folder: Path
    synthesized: int
    """Segments synthesized in this build (the rest came from the cache)."""
    reused: int


def prepare(entry: Entry, settings: Settings) -> tuple[Issue, Script]:
    """Parse and script an issue: pure and fast, shared by `script`, `episode` and `watch`."""
    issue = issue_stage.parse(entry)
    if issue.words > settings.limits.max_words:
        raise IssueError(
            f"issue #{issue.number} has {issue.words} words, over the limit of {settings.limits.max_words} "
            "(limits.max_words); refusing to synthesize it"
        )
    a = settings.audio
    pauses = script_stage.Pauses(a.pause_section, a.pause_item, a.pause_paragraph)
    return issue, script_stage.write(issue, settings.newsletter.name, pauses)


def load_voice(settings: Settings) -> tuple[speak.Profile, speak.Lexicon]:
    profile = speak.load_profile(settings.paths.voices, settings.voice.profile)
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    return profile, lexicon


def build(entry: Entry, settings: Settings, voice: tuple[speak.Profile, speak.Lexicon] | None = None) -> Built:
    fingerprint = inputs.digest(entry, settings, mix.ffmpeg())
    done = up_to_date(settings.paths.episodes / manifest.slug(entry.number), fingerprint)
    if done:
        log.info("%s is up to date: nothing it is built from has changed", done.folder / done.episode.audio)
        return done
    issue, script = prepare(entry, settings)
    profile, lexicon = voice or load_voice(settings)
    slug = manifest.slug(issue.number)
    folder = settings.paths.episodes / slug
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(folder)
    log.info("building issue #%d (%s): %d segments, %d words", issue.number, issue.title, len(script.segments), issue.words)

    planned = speak.plan(script, profile, lexicon)
    cache = speak.SpeechCache(settings.paths.cache / "speech")
    todo = [0 if cache.has(item.key) else len(item.text) for item in planned]
    stream = track(speak.synthesize(planned, profile, cache, settings.speed.threads), len(planned), "synthesizing",
                   lambda s: len(s.speech.samples) / s.speech.sample_rate, todo)
    a = settings.audio
    mastering = mix.Mastering(a.loudness, a.true_peak, a.bitrate, a.sample_rate)
    gain = mix.expected_gain((e for _, e in manifest.all_episodes(settings.paths.episodes)), issue.number, a.loudness)

    with tempfile.TemporaryDirectory(dir=folder, prefix=".build-") as tmp:
        staging = Path(tmp)
        audio_name = f"{slug}.mp3"
        mixed = mix.produce(stream, script.chapters, a.intro, a.outro, staging / audio_name, mastering, gain,
                            meter_apart=speak.speaks_first(planned, cache, settings.speed.threads))
        log.info("synthesized %d segments, reused %d from the cache; mastered %.1f minutes to %.1f LUFS, %.1f dBTP",
                 cache.misses, cache.hits, mixed.timeline.duration / 60, mixed.loudness, mixed.true_peak)
        title = f"{settings.newsletter.name} #{issue.number}: {issue.title}"
        tags.write(staging / audio_name, tags.Tags(
            title=title, show=settings.podcast.title, artist=settings.podcast.author, number=issue.number,
            date=issue.published, comment=issue.link, cover=settings.podcast.cover, chapters=mixed.timeline.chapters,
        ))
        (staging / "script.txt").write_text("\n".join(
            " ".join(line.spoken for line in item.lines) for item in planned if item.lines) + "\n", encoding="utf-8")
        (staging / "transcript.vtt").write_text(timeline.webvtt(mixed.timeline), encoding="utf-8")
        (staging / "chapters.json").write_text(timeline.chapters_json(mixed.timeline, title), encoding="utf-8")
        episode = Episode(
            number=issue.number,
            title=title,
            guid=_existing_guid(folder) or podcast.episode_guid(settings.newsletter.name, issue.number),
            published=issue.published,
            slug=slug,
            link=issue.link,
            description=describe(issue),
            audio=audio_name,
            script="script.txt",
            transcript="transcript.vtt",
            chapters="chapters.json",
            duration=round(mixed.timeline.duration, 3),
            audio_bytes=(staging / audio_name).stat().st_size,
            source_hash=source_hash(entry),
            extra={"built": datetime.now(timezone.utc).isoformat(timespec="seconds"), "voice": profile.name,
                   "segments": [item.key for item in planned], "inputs": fingerprint,
                   "mastering": {"gain": mixed.gain, "loudness": a.loudness, "measured": mixed.loudness,
                                 "true_peak": mixed.true_peak, "encodes": mixed.encodes},
                   "speech": {"synthesized": cache.misses, "reused": cache.hits}},
        )
        names = (audio_name, "script.txt", "transcript.vtt", "chapters.json")
        for name in names:
            os.replace(staging / name, folder / name)
        episode.extra["outputs"] = {name: _stamp(folder / name) for name in names}
        manifest.write(folder, episode)
    log.info("built %s (%s, %.1f minutes)", folder / audio_name, _size(episode.audio_bytes), episode.duration / 60)
    return Built(episode, folder, cache.misses, cache.hits)


def up_to_date(folder: Path, fingerprint: str) -> Built | None:
    """The episode as built before, if it was built from exactly these inputs and its files are as it left them."""
    try:
        episode = manifest.read(folder)
    except PublishError:
        return None
    outputs = episode.extra.get("outputs") or {}
    if episode.extra.get("inputs") != fingerprint or not outputs:
        return None
    if any(_stamp(folder / name) != list(stamp) for name, stamp in outputs.items()):
        return None
    return Built(episode, folder, 0, len(episode.extra.get("segments", ())))


def _stamp(path: Path) -> list[int]:
    try:
        stat = path.stat()
    except OSError:
        return []
    return [stat.st_size, stat.st_mtime_ns]


def describe(issue: Issue) -> str:
    """The plain description apps show under the title: the headline and the papers it covers."""
    titles = [item.title for section in issue.sections for item in section.items if item.title]
    text = f"{issue.title}. In this issue: " + "; ".join(titles) + "."
    return text if len(text) <= 3900 else text[:3897].rsplit(" ", 1)[0] + "..."


def source_hash(entry: Entry) -> str:
    """What the newsletter said; a changed hash means the issue was edited after it was built."""
    return hashlib.sha256(f"{entry.title}\n{entry.content}".encode()).hexdigest()[:16]


def _existing_guid(folder: Path) -> str | None:
    if (folder / manifest.NAME).exists():
        try:
            return manifest.read(folder).guid
        except Exception:
            return None
    return None


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def remove_stale_builds(folder: Path) -> None:
    """A build killed mid-way leaves its staging folder; nothing in it was ever published."""
    for stale in folder.glob(".build-*"):
        shutil.rmtree(stale, ignore_errors=True)
