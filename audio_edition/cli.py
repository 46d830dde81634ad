"""The command line: parses flags into settings overrides, runs one command, turns expected failures into one line."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from . import __version__
from .errors import EditionError

log = logging.getLogger("audio_edition")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audio-edition", description="The Alignment Newsletter as a podcast.")
    parser.add_argument("--settings", default="edition.toml", help="settings file (default: edition.toml)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                        help="override one setting for this run, e.g. --set watch.publish=review (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    parser.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    parser.add_argument("--version", action="version", version=f"audio-edition {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_source(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--feed", help="newsletter feed URL or path (default: newsletter.feed in the settings)")
        p.add_argument("--issue", default="latest", help="issue number, or 'latest' (default)")
        return p

    episode = with_source(commands.add_parser("episode", help="build one issue into an episode, then publish"))
    episode.add_argument("--no-publish", action="store_true", help="build only; leave public/ as it is")
    publish = commands.add_parser("publish", help="regenerate public/ (site, feed, media), then copy it to the host")
    publish.add_argument("--to", metavar="TARGET",
                         help="'folder', 's3', s3://BUCKET/PREFIX or a folder path (default: hosting.target)")
    publish.add_argument("--issue", action="append", type=int, default=[], metavar="N",
                         help="approve issue N (waiting for review) and publish it; may be repeated")
    review = commands.add_parser("review", help="list a built episode's segments: id, start, chapter, spoken text")
    review.add_argument("--issue", default="latest", help="issue number, or 'latest' built (default)")
    review.add_argument("--chapter", help="only the chapters whose title contains this text")
    segment = commands.add_parser("segment", help="write one segment's audio from the speech cache (no synthesis)")
    segment.add_argument("id", help="the segment's id as `review` prints it (or its first characters)")
    segment.add_argument("--issue", default="latest", help="issue number, or 'latest' built (default)")
    segment.add_argument("-o", "--output", help="WAV file to write (default: segment-ID.wav)")
    segment.add_argument("--play", action="store_true", help="play it with ffplay, paplay, aplay or afplay")
    commands.add_parser("status", help="what the editor needs at a glance: each issue's state, the last watch run")
    serve = commands.add_parser("serve", help="preview public/ over HTTP as podcast apps and browsers see it")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0: any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    with_source(commands.add_parser("script", help="print an issue's spoken script, one segment per line"))
    say = commands.add_parser("say", help="speak a text through the same normalization and voice")
    say.add_argument("text")
    say.add_argument("-o", "--output", default="say.wav", help="WAV file to write (default: say.wav)")
    say.add_argument("--text-only", action="store_true", help="print the spoken form; do not synthesize")
    say.add_argument("--role", default="narrator", choices=["narrator", "opinion", "quote"])
    check = commands.add_parser("check", help="transcribe a built episode and compare what is heard with its script")
    check.add_argument("episode", help="an episode folder, its MP3, its slug (an-066) or its issue number (66)")
    check.add_argument("--model", help="Whisper model: package:NAME, a folder, or a cached name (default: check.model)")
    check.add_argument("--worst", type=int, help="how many differing lines to list (default: check.worst)")
    check.add_argument("--max-wer", type=float, metavar="RATE", help="fail (exit 1) above this word error rate, e.g. 0.06")
    watch = commands.add_parser("watch", help="publish every issue of the feed not yet published (for cron/systemd)")
    watch.add_argument("--feed", help="newsletter feed URL or path (default: newsletter.feed in the settings)")
    when = watch.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="check the feed once, then exit (the default)")
    when.add_argument("--every", metavar="DURATION", help="check the feed every DURATION (1h, 30m) until stopped")
    cache = commands.add_parser("cache", help="the caches: `cache prune` deletes speech and encoded blocks no built episode uses")
    cache.add_argument("action", choices=["prune"])
    cache.add_argument("--dry-run", action="store_true", help="say how much would go; delete nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s" if not args.verbose else "%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except EditionError as exc:
        log.error("error: %s", exc)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        log.error("interrupted; public/feed.xml is whole (old or new), and the next run picks up where this one stopped")
        return 130


def _settings(args: argparse.Namespace):
    from . import settings

    overrides = {}
    for pair in args.overrides:
        key, sep, value = pair.partition("=")
        if not sep or "." not in key:
            raise EditionError(f"--set takes TABLE.KEY=VALUE (e.g. watch.publish=review), not {pair!r}")
        overrides[key.strip()] = value
    if getattr(args, "feed", None):
        feed = args.feed
        overrides["newsletter.feed"] = feed if "://" in feed else str(Path(feed).resolve())
    return settings.load(args.settings, overrides)


def _entry(args: argparse.Namespace, settings):
    from . import feed, fetch
    from .settings import resolve_source

    source = resolve_source(settings, settings.newsletter.feed)
    policy = fetch.Policy.of(settings.fetch)
    return feed.select(feed.read_entries(source, settings.newsletter.issue_pattern, policy), args.issue)


def cmd_episode(args: argparse.Namespace) -> int:
    from .build import build
    from .publish import publish

    settings = _settings(args)
    with _exclusive(settings):
        built = build(_entry(args, settings), settings, approve=not args.no_publish)
        if args.no_publish:
            number = built.episode.number
            later = f"`audio-edition publish --issue {number}`" if built.episode.waiting else "`audio-edition publish`"
            log.info("not published (--no-publish); %s publishes it", later)
            return 0
        feed = publish(settings)
    log.info("the feed is at %s (served as %s)", feed, settings.podcast.feed_url)
    return 0


def _exclusive(settings):
    """The watch job's lock: an editor's build or publish never runs at the same time as the job."""
    from . import lock, state

    return lock.hold(state.folder(settings), wait=True)


def cmd_publish(args: argparse.Namespace) -> int:
    from .hosting import target
    from .release import release

    settings = _settings(args)
    target(settings, args.to)  # a bad target fails before public/ is touched
    with _exclusive(settings):
        release(settings, approve=set(args.issue), to=args.to)
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from . import manifest, review

    settings = _settings(args)
    folder = manifest.find(settings.paths.episodes, args.issue)
    text = review.listing(review.read(folder), args.chapter)
    if not text:
        raise EditionError(f"no chapter of {folder.name} has {args.chapter!r} in its title")
    print(text)
    return 0


def cmd_segment(args: argparse.Namespace) -> int:
    from . import manifest, review
    from .speak import SpeechCache
    from .speak.cache import write_wav

    settings = _settings(args)
    folder = manifest.find(settings.paths.episodes, args.issue)
    row = review.find(review.read(folder), args.id)
    speech = SpeechCache(settings.paths.cache / "speech").get(row.key)
    if speech is None:
        raise EditionError(f"segment {row.id} is not in the speech cache (pruned?); rebuild with `make episode`")
    path = Path(args.output or f"segment-{row.id}.wav")
    write_wav(path, speech.samples, speech.sample_rate)
    log.info("wrote %s (%.1f s): %s", path, len(speech.samples) / speech.sample_rate, row.text)
    if args.play and not review.play(path):
        log.info("no audio player found (%s); open %s to hear it", ", ".join(c[0] for c in review.PLAYERS), path)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from . import status

    print(status.report(_settings(args)))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    try:
        serve(_settings(args), args.port, args.host)
    except KeyboardInterrupt:
        log.info("stopped")
    return 0


def cmd_script(args: argparse.Namespace) -> int:
    """Print what the voices will be given, one segment per line, as `review` lists it after a build."""
    from . import speak
    from .build import load_voice, prepare

    settings = _settings(args)
    _, script = prepare(_entry(args, settings), settings)
    profile, lexicon = load_voice(settings)
    for item in speak.plan(script, profile, lexicon):
        print(item.text)
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    """Speak a text through the same normalization, lexicon and voice as an episode (or only print the text the
    role's voice would be given)."""
    from . import speak
    from .build import load_voice
    from .model import Role, Script, Segment
    from .speak.cache import write_wav

    settings = _settings(args)
    profile, lexicon = load_voice(settings)
    planned = speak.plan(Script(0, "say", (), (Segment("say", args.text, 0, Role(args.role)),)), profile, lexicon)
    if args.text_only or not planned:
        print(planned[0].text if planned else "")
        return 0
    cache = speak.SpeechCache(settings.paths.cache / "speech")
    spoken = next(iter(speak.synthesize(planned, profile, cache)))
    write_wav(Path(args.output), spoken.speech.samples, spoken.speech.sample_rate)
    print(planned[0].text)
    log.info("wrote %s (%.1f s)", args.output, len(spoken.speech.samples) / spoken.speech.sample_rate)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from . import check, manifest, speak

    settings = _settings(args)
    folder = manifest.find(settings.paths.episodes, args.episode)
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    report = check.check_episode(folder, check.Recognizer.from_settings(settings, args.model), lexicon)
    print(check.describe(report, folder.name, args.worst if args.worst is not None else settings.check.worst))
    if args.max_wer is not None and report.wer > args.max_wer:
        raise check.CheckError(f"{folder.name}: word error rate {report.wer:.1%} is above {args.max_wer:.1%}")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """Exit status: 0 all done, 1 something failed (one `error:` line each), 75 another run holds the lock."""
    from . import watch
    from .settings import resolve_source

    settings = _settings(args)
    source = resolve_source(settings, settings.newsletter.feed)
    if args.every:
        return watch.every(settings, source, watch.parse_interval(args.every))
    return watch.once(settings, source)


def cmd_cache(args: argparse.Namespace) -> int:
    from . import manifest
    from .mp3 import BlockCache
    from .opus import OpusCache
    from .speak import SpeechCache

    settings = _settings(args)
    verb, folder = ("would delete" if args.dry_run else "deleted"), settings.paths.cache
    built = [episode.record for _, episode in manifest.all_episodes(settings.paths.episodes)]
    caches = (("cached segments", SpeechCache(folder / "speech"), {k for r in built for k in r.speech.segments}),
              ("encoded MP3 blocks", BlockCache(folder / "blocks"), {k for r in built for k in r.mastering.blocks}),
              ("encoded Opus blocks", OpusCache(folder / "opus"), {k for r in built for k in r.opus.blocks}))
    for what, cache, used in caches:
        removed = cache.prune(used, dry_run=args.dry_run)
        log.info("%s %d %s no built episode uses; kept %d", verb, removed, what, len(cache.keys() & used))
    return 0


COMMANDS = {"episode": cmd_episode, "publish": cmd_publish, "script": cmd_script, "say": cmd_say, "watch": cmd_watch,
            "check": cmd_check, "cache": cmd_cache, "serve": cmd_serve, "review": cmd_review,
            "segment": cmd_segment, "status": cmd_status}

if __name__ == "__main__":
    sys.exit(main())
