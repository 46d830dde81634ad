"""Build one episode: the whole pipeline for an issue, assembled in one place (entry -> ... -> episodes/<slug>/)."""

from __future__ import annotations

import dataclasses
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
from . import art, corrections, manifest, mix, mp3, notes, podcast, review, script as script_stage, speak, tags, timeline
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


def build(entry: Entry, settings: Settings, voice: tuple[speak.Profile, speak.Lexicon] | None = None,
          approve: bool = True) -> Built:
    """Build (or find up to date) the episode of `entry`. `approve` is the editor's word that it may be
    published; without it, in review mode (watch.publish = "review"), a new episode waits for it."""
    fingerprint = inputs.digest(entry, settings, mix.ffmpeg())
    folder = settings.paths.episodes / manifest.slug(entry.number)
    previous = _previous(folder)
    waiting = not approve and settings.watch.publish == "review" and (previous is None or previous.waiting)
    done = up_to_date(folder, fingerprint)
    if done:
        log.info("%s is up to date: nothing it is built from has changed", done.folder / done.episode.audio)
        if done.episode.waiting != waiting:
            manifest.write(folder, dataclasses.replace(done.episode, waiting=waiting))
            return dataclasses.replace(done, episode=manifest.read(folder))
        return done
    issue, script = prepare(entry, settings)
    profile, lexicon = voice or load_voice(settings)
    slug = manifest.slug(issue.number)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(folder)
    log.info("building issue #%d (%s): %d segments, %d words", issue.number, issue.title, len(script.segments), issue.words)

    fixes = corrections.load(folder)
    planned = speak.plan(script, profile, lexicon, fixes)
    used = {n for item in planned for n in item.corrected}
    unmatched = corrections.report_unmatched(fixes, used, folder)
    if fixes:
        log.info("applied %d of %d corrections from %s", len(used), len(fixes.items), folder / corrections.NAME)
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
        blocks = mp3.BlockCache(settings.paths.cache / "blocks")
        mixed = mix.produce(stream, script.chapters, a.intro, a.outro, staging / audio_name, mastering, gain,
                            blocks, cache, settings.speed.threads, speaking=any(todo))
        log.info("synthesized %d segments, reused %d from the cache; encoded %d blocks, reused %d; "
                 "mastered %.1f minutes to %.1f LUFS, %.1f dBTP", cache.misses, cache.hits, mixed.encoded,
                 mixed.reused, mixed.timeline.duration / 60, mixed.loudness, mixed.true_peak)
        title = f"{settings.newsletter.name} #{issue.number}: {issue.title}"
        cover = art.ensure(folder, settings.podcast.cover, issue.number, issue.published, settings.newsletter.name)
        tags.write(staging / audio_name, tags.Tags(
            title=title, show=settings.podcast.title, artist=settings.podcast.author, number=issue.number,
            date=issue.published, comment=issue.link, cover=cover, chapters=mixed.timeline.chapters,
        ))
        (staging / "notes.html").write_text(
            notes.show_notes(issue, mixed.timeline.chapters, credits(settings, profile), settings.newsletter.name),
            encoding="utf-8")
        (staging / "script.txt").write_text("\n".join(
            " ".join(line.spoken for line in item.lines) for item in planned if item.lines) + "\n", encoding="utf-8")
        (staging / "transcript.vtt").write_text(timeline.webvtt(mixed.timeline), encoding="utf-8")
        (staging / "chapters.json").write_text(timeline.chapters_json(mixed.timeline, title), encoding="utf-8")
        (staging / "segments.json").write_text(review.segments_json(planned, script, mixed.timeline), encoding="utf-8")
        episode = Episode(
            number=issue.number,
            title=title,
            guid=previous.guid if previous else podcast.episode_guid(settings.newsletter.name, issue.number),
            published=issue.published,
            slug=slug,
            link=issue.link,
            description=notes.description(issue, settings.newsletter.name),
            audio=audio_name,
            script="script.txt",
            transcript="transcript.vtt",
            chapters="chapters.json",
            duration=round(mixed.timeline.duration, 3),
            audio_bytes=(staging / audio_name).stat().st_size,
            source_hash=source_hash(entry),
            notes="notes.html",
            art=cover.name,
            waiting=waiting,
            extra={"built": datetime.now(timezone.utc).isoformat(timespec="seconds"), "voice": profile.name,
                   "segments": [item.key for item in planned], "inputs": fingerprint,
                   "blocks": list(mixed.blocks),
                   "mastering": {"gain": mixed.gain, "loudness": a.loudness, "measured": mixed.loudness,
                                 "true_peak": mixed.true_peak, "encodes": mixed.encodes,
                                 "blocks": {"encoded": mixed.encoded, "reused": mixed.reused}},
                   "speech": {"synthesized": cache.misses, "reused": cache.hits},
                   "corrections": {"digest": fixes.digest, "count": len(fixes.items), "applied": len(used),
                                   "unmatched": unmatched}},
        )
        names = (audio_name, "script.txt", "transcript.vtt", "chapters.json", "notes.html", "segments.json")
        for name in names:
            os.replace(staging / name, folder / name)
        episode.extra["outputs"] = {name: _stamp(folder / name) for name in names + (cover.name,)}
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


def credits(settings: Settings, profile: speak.Profile) -> notes.Credits:
    """What the show notes credit: the voice and its licence, the music, and where feedback goes."""
    return notes.Credits(
        voice=profile.credit or profile.name,
        voice_licence=profile.licence,
        music=settings.audio.music_credit,
        feedback=settings.podcast.feedback or settings.podcast.owner_email,
    )


def source_hash(entry: Entry) -> str:
    """What the newsletter said; a changed hash means the issue was edited after it was built."""
    return hashlib.sha256(f"{entry.title}\n{entry.content}".encode()).hexdigest()[:16]


def _previous(folder: Path) -> Episode | None:
    """The episode as last built, whose guid (and approval) a rebuild keeps."""
    if (folder / manifest.NAME).exists():
        try:
            return manifest.read(folder)
        except PublishError:
            return None
    return None


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def remove_stale_builds(folder: Path) -> None:
    """A build killed mid-way leaves its staging folder; nothing in it was ever published."""
    for stale in folder.glob(".build-*"):
        shutil.rmtree(stale, ignore_errors=True)
