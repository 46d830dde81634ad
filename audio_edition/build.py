"""Build one episode: the pipeline for an issue, assembled in one place: plan, produce into staging, record."""

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

from typing import TYPE_CHECKING

from . import inputs
from . import issue as issue_stage
from . import art, corrections, manifest, mp3, notes, podcast, review, script as script_stage, tags, timeline
from .errors import AudioError, IssueError, PublishError
from .model import (Alternate, BuildRecord, CorrectionsRecord, Entry, Episode, InputsRecord, Issue, MasteringRecord,
                    OpusRecord, Script, SpeechRecord)
from .progress import track
from .settings import Settings
from .urls import publishable

if TYPE_CHECKING:  # imported where an episode is made: a warm rebuild needs neither numpy, pydub nor the voices
    from . import mix, opus, speak

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
    from . import speak
    profile = speak.load_profile(settings.paths.voices, settings.voice.profile)
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    return profile, lexicon


@dataclass(frozen=True)
class Plan:
    """Where a build of one issue starts: its folder, what it is built from, what was built before."""

    entry: Entry
    folder: Path
    fingerprint: str
    """inputs.digest of everything this build would read."""
    previous: Episode | None
    """The episode as last built, whose guid (and approval) a rebuild keeps."""
    waiting: bool
    """Whether the episode is to wait for the editor's approval before it is published."""


@dataclass(frozen=True)
class Produced:
    """What a build made in its staging folder, before any of it replaces the episode's files."""

    mixed: mix.Mixed
    cover: Path
    """The episode's art (art.ensure keeps it in the episode's folder, redrawn only when it changes)."""
    files: tuple[str, ...]
    """The staged files, by name."""
    speech: SpeechRecord
    corrections: CorrectionsRecord
    alternate: Alternate = Alternate()
    """The Opus rendering, if one was made and passed its checks."""
    opus: OpusRecord = OpusRecord()


def build(entry: Entry, settings: Settings, voice: tuple[speak.Profile, speak.Lexicon] | None = None,
          approve: bool = True) -> Built:
    """Build (or find up to date) the episode of `entry`: plan, produce into a staging folder, record.

    `approve` is the editor's word that it may be published; without it, in review mode
    (publish = "review"), a new episode waits for it."""
    plan = plan_build(entry, settings, approve)
    done = up_to_date(plan.folder, plan.fingerprint)
    if done:
        return _stands(done, plan)
    issue, script = prepare(entry, settings)
    profile, lexicon = voice or load_voice(settings)
    plan.folder.mkdir(parents=True, exist_ok=True)
    remove_stale_builds(plan.folder)
    log.info("building issue #%d (%s): %d segments, %d words", issue.number, issue.title, len(script.segments), issue.words)
    with tempfile.TemporaryDirectory(dir=plan.folder, prefix=".build-") as tmp:
        produced = produce(Path(tmp), issue, script, (profile, lexicon), plan, settings)
        episode = record(Path(tmp), plan, issue, produced, settings, profile)
    log.info("built %s (%s, %.1f minutes)", plan.folder / episode.audio, _size(episode.audio_bytes), episode.duration / 60)
    return Built(episode, plan.folder, produced.speech.synthesized, produced.speech.reused)


def plan_build(entry: Entry, settings: Settings, approve: bool) -> Plan:
    """Where the episode of `entry` goes and what it is built from; reads the old manifest, nothing more."""
    folder = settings.paths.episodes / manifest.slug(entry.number)
    previous = _previous(folder)
    waiting = not approve and settings.watch.publish == "review" and (previous is None or previous.waiting)
    return Plan(entry, folder, inputs.digest(entry, settings, mp3.ffmpeg()), previous, waiting)


def _stands(done: Built, plan: Plan) -> Built:
    """An up-to-date episode is left as built; only its approval may change."""
    log.info("%s is up to date: nothing it is built from has changed", done.folder / done.episode.audio)
    if done.episode.waiting == plan.waiting:
        return done
    manifest.write(plan.folder, dataclasses.replace(done.episode, waiting=plan.waiting))
    return dataclasses.replace(done, episode=manifest.read(plan.folder))


def produce(staging: Path, issue: Issue, script: Script, voice: tuple[speak.Profile, speak.Lexicon], plan: Plan,
            settings: Settings) -> Produced:
    """Speak, master and tag the episode and write each of its files, all into `staging`."""
    from . import speak
    profile, lexicon = voice
    fixes = corrections.load(plan.folder)
    planned = speak.plan(script, profile, lexicon, fixes)
    fixed = _corrections_record(fixes, planned, plan.folder)
    cache = speak.SpeechCache(settings.paths.cache / "speech")
    audio = staging / f"{manifest.slug(issue.number)}.mp3"
    alternate = _alternate(settings)
    mixed = _mix(audio, planned, script, profile, cache, settings, issue.number, alternate)
    log.info("synthesized %d segments, reused %d from the cache; encoded %d blocks, reused %d; "
             "mastered %.1f minutes to %.1f LUFS, %.1f dBTP", cache.misses, cache.hits, mixed.encoded,
             mixed.reused, mixed.timeline.duration / 60, mixed.loudness, mixed.true_peak)
    cover = art.ensure(plan.folder, settings.podcast.cover, issue.number, issue.published, settings.newsletter.name)
    tags.write(audio, tags.Tags(
        title=episode_title(settings, issue), show=settings.podcast.title, artist=settings.podcast.author,
        number=issue.number, date=issue.published, comment=issue.link, cover=cover, chapters=mixed.timeline.chapters,
    ))
    texts = {
        "notes.html": notes.show_notes(issue, mixed.timeline.chapters, credits(settings, profile),
                                       settings.newsletter.name),
        "script.txt": "\n".join(item.text for item in planned if item.sentences) + "\n",
        "transcript.vtt": timeline.webvtt(mixed.timeline),
        "transcript.json": timeline.transcript_json(mixed.timeline),
        "transcript.srt": timeline.srt(mixed.timeline),
        "chapters.json": timeline.chapters_json(mixed.timeline, episode_title(settings, issue)),
        review.NAME: review.segments_json(planned, script, mixed.timeline),
    }
    for name, text in texts.items():
        (staging / name).write_text(text, encoding="utf-8")
    speech = SpeechRecord(tuple(item.key for item in planned), cache.misses, cache.hits)
    rendering, made = _opus(staging / f"{manifest.slug(issue.number)}.opus", issue, mixed, alternate, settings)
    files = (audio.name, *texts, *([rendering.audio] if rendering.audio else []))
    return Produced(mixed, cover, files, speech, fixed, rendering, made)


def _alternate(settings: Settings) -> opus.Coder | None:
    """What makes the Opus rendering's blocks (None if there is to be none)."""
    from . import opus
    a = settings.audio
    if not a.opus_bitrate:
        return None
    return opus.Coder(mp3.ffmpeg(), opus.Encoding(a.opus_bitrate, a.opus_application),
                      opus.OpusCache(settings.paths.cache / "opus"))


def _opus(out: Path, issue: Issue, mixed: mix.Mixed, coder: opus.Coder | None,
          settings: Settings) -> tuple[Alternate, OpusRecord]:
    """The smaller Opus rendering, joined from the Opus blocks the mix made beside the MP3's (and any it still
    lacks) and checked against the MP3 by decoding it; left out (with a warning, never failing the build) if it
    cannot be made or does not match."""
    from . import opus
    a = settings.audio
    if coder is None:
        return Alternate(), OpusRecord()
    blocks = mp3.BlockCache(settings.paths.cache / "blocks")
    sources = []
    for key, music in zip(mixed.blocks, mixed.music):
        block = blocks.get(key)
        if block is None:
            return Alternate(), OpusRecord(refused="an MP3 block left the cache during the build")
        sources.append(opus.Source(key, blocks.path(key), block.samples, music))
    details = opus.Details(episode_title(settings, issue), settings.podcast.title, settings.podcast.author,
                           issue.published.date().isoformat(), issue.number)
    try:
        made = opus.render(sources, a.sample_rate, out, coder, details, settings.speed.threads)
        opus.verify(made, mixed.timeline.duration, mixed.loudness)
    except AudioError as exc:
        log.warning("the Opus rendering is left out of issue #%d: %s", issue.number, exc)
        out.unlink(missing_ok=True)
        return Alternate(), OpusRecord(refused=str(exc))
    log.info("rendered %s in Opus: %s (%.0f%% of the MP3), %.3f s, %.1f LUFS; encoded %d blocks, reused %d",
             out.name, _size(made.size), 100 * made.size / max(1, (out.with_suffix(".mp3")).stat().st_size),
             made.duration, made.loudness, made.encoded, made.reused)
    return (Alternate(out.name, made.size, opus.TYPE, opus.CODECS, made.bitrate, round(made.duration, 3),
                      made.loudness),
            OpusRecord(made.blocks, made.encoded, made.reused, round(made.shift, 4)))


def _mix(audio: Path, planned: list[speak.Planned], script: Script, profile: speak.Profile, cache: speak.SpeechCache,
         settings: Settings, number: int, alternate: opus.Coder | None) -> mix.Mixed:
    """The episode's speech, spoken (or read from the cache) as it is mastered and encoded into `audio`."""
    from . import mix, speak
    todo = [0 if cache.has(item.key) else len(item.text) for item in planned]
    stream = track(speak.synthesize(planned, profile, cache, settings.speed.threads), len(planned), "synthesizing",
                   lambda s: len(s.speech.samples) / s.speech.sample_rate, todo)
    a = settings.audio
    mastering = mix.Mastering(a.loudness, a.true_peak, a.bitrate, a.sample_rate)
    gain = mix.expected_gain((e for _, e in manifest.all_episodes(settings.paths.episodes)), number, a.loudness)
    blocks = mp3.BlockCache(settings.paths.cache / "blocks")
    return mix.produce(stream, script.chapters, a.intro, a.outro, audio, mastering, gain, blocks, cache,
                       settings.speed.threads, speaking=any(todo), alternate=alternate)


def _corrections_record(fixes: corrections.Corrections, planned: list[speak.Planned], folder: Path) -> CorrectionsRecord:
    """Which of the editor's corrections the plan applied, and the ones that matched nothing (reported)."""
    used = {n for item in planned for n in item.corrected}
    unmatched = corrections.report_unmatched(fixes, used, folder)
    if fixes:
        log.info("applied %d of %d corrections from %s", len(used), len(fixes.items), folder / corrections.NAME)
    return CorrectionsRecord(fixes.digest, len(fixes.items), len(used), tuple(unmatched))


def record(staging: Path, plan: Plan, issue: Issue, produced: Produced, settings: Settings,
           profile: speak.Profile) -> Episode:
    """Move the staged files into the episode's folder, then write its manifest: the build's last step."""
    for name in produced.files:
        os.replace(staging / name, plan.folder / name)
    mixed, audio = produced.mixed, produced.files[0]
    outputs = tuple((name, *_stamp(plan.folder / name)) for name in (*produced.files, produced.cover.name))
    a = settings.audio
    episode = Episode(
        number=issue.number,
        title=episode_title(settings, issue),
        guid=plan.previous.guid if plan.previous else podcast.episode_guid(settings.newsletter.name, issue.number),
        published=issue.published,
        slug=manifest.slug(issue.number),
        link=issue.link,
        description=notes.description(issue, settings.newsletter.name),
        audio=audio,
        script="script.txt",
        transcript="transcript.vtt",
        chapters="chapters.json",
        duration=round(mixed.timeline.duration, 3),
        audio_bytes=(plan.folder / audio).stat().st_size,
        notes="notes.html",
        art=produced.cover.name,
        waiting=plan.waiting,
        transcript_json="transcript.json",
        transcript_srt="transcript.srt",
        summarizers=summarizers(issue),
        discussion=publishable(plan.entry.comments) or "",
        soundbite=timeline.soundbite(mixed.timeline, _first_item(issue)),
        alternate=produced.alternate,
        record=BuildRecord(
            built=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            inputs=InputsRecord(plan.fingerprint, source_hash(plan.entry), profile.name),
            speech=produced.speech,
            mastering=MasteringRecord(mixed.gain, a.loudness, mixed.loudness, mixed.true_peak, mixed.encodes,
                                      mixed.blocks, mixed.encoded, mixed.reused),
            corrections=produced.corrections,
            outputs=outputs,
            opus=produced.opus,
        ),
    )
    manifest.write(plan.folder, episode)
    return episode


def summarizers(issue: Issue) -> tuple[str, ...]:
    """Who summarized the issue's items, as the newsletter names them ("Rohin", "Dan H"), each once, in order;
    "Rohin and Flo" is two people."""
    names = [name.strip() for section in issue.sections for item in section.items
             for name in _names(item.summarizer or "") if name.strip()]
    return tuple(dict.fromkeys(names))


def _names(summarizer: str) -> list[str]:
    """'Rohin, Flo and Dan H' as its names (no regular expression: plain splits, linear in the text)."""
    words = " ".join(summarizer.split()).replace(" & ", ", ").replace(", and ", ", ").replace(" and ", ", ")
    return words.split(",")


def _first_item(issue: Issue) -> tuple[int, int]:
    """The issue's first item (the Highlights' first paper), as script.py indexes chapters: (section, item)."""
    return next(((n, 0) for n, section in enumerate(issue.sections) if section.items), (0, 0))


def episode_title(settings: Settings, issue: Issue) -> str:
    return f"{settings.newsletter.name} #{issue.number}: {issue.title}"


def up_to_date(folder: Path, fingerprint: str) -> Built | None:
    """The episode as built before, if it was built from exactly these inputs and its files are as it left them."""
    try:
        episode = manifest.read(folder)
    except PublishError:
        return None
    outputs = episode.record.outputs
    if episode.record.inputs.digest != fingerprint or not outputs:
        return None
    if any(_stamp(folder / name) != (size, mtime) for name, size, mtime in outputs):
        return None
    return Built(episode, folder, 0, len(episode.record.speech.segments))


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


def credits(settings: Settings, profile: speak.Profile) -> notes.Credits:
    """What the show notes credit: the voice (or each voice, with its licence), the music, and where feedback goes."""
    voice, licence = profile.credit or profile.name, profile.licence
    if profile.credits:
        voice = "; and ".join(f"{c.voice} (licence: {c.licence})" if c.licence else c.voice for c in profile.credits)
        licence = ""
    return notes.Credits(
        voice=voice,
        voice_licence=licence,
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
