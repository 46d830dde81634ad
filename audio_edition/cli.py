"""The command line: parses flags into settings overrides, runs one command, turns expected failures into one line."""

from __future__ import annotations

import argparse
import logging
import sys
import wave
from pathlib import Path

from . import __version__
from .errors import EditionError

log = logging.getLogger("audio_edition")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audio-edition", description="The Alignment Newsletter as a podcast.")
    parser.add_argument("--settings", default="edition.toml", help="settings file (default: edition.toml)")
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
    commands.add_parser("publish", help="regenerate public/ (feed, media) from all built episodes")
    with_source(commands.add_parser("script", help="print an issue's spoken script, one segment per line"))
    say = commands.add_parser("say", help="speak a text through the same normalization and voice")
    say.add_argument("text")
    say.add_argument("-o", "--output", default="say.wav", help="WAV file to write (default: say.wav)")
    say.add_argument("--text-only", action="store_true", help="print the spoken form; do not synthesize")
    say.add_argument("--role", default="narrator", choices=["narrator", "opinion", "quote"])
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
        log.error("interrupted; nothing was published")
        return 130


def _settings(args: argparse.Namespace):
    from . import settings

    overrides = {}
    if getattr(args, "feed", None):
        feed = args.feed
        overrides["newsletter.feed"] = feed if "://" in feed else str(Path(feed).resolve())
    return settings.load(args.settings, overrides)


def _entry(args: argparse.Namespace, settings):
    from . import feed
    from .settings import resolve_source

    source = resolve_source(settings, settings.newsletter.feed)
    return feed.select(feed.read_entries(source, settings.newsletter.issue_pattern), args.issue)


def cmd_episode(args: argparse.Namespace) -> int:
    from .build import build
    from .publish import publish

    settings = _settings(args)
    built = build(_entry(args, settings), settings)
    if args.no_publish:
        log.info("not published (--no-publish); run `audio-edition publish` to publish")
        return 0
    feed = publish(settings)
    log.info("the feed is at %s (served as %s)", feed, settings.podcast.feed_url)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from .publish import publish

    publish(_settings(args))
    return 0


def cmd_script(args: argparse.Namespace) -> int:
    from . import speak
    from .build import prepare

    settings = _settings(args)
    _, script = prepare(_entry(args, settings), settings)
    lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
    for segment in script.segments:
        print(speak.spoken_text(segment, lexicon))
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from . import speak
    from .build import load_voice
    from .model import Role, Segment

    settings = _settings(args)
    segment = Segment("say", args.text, 0, Role(args.role))
    if args.text_only:
        lexicon = speak.Lexicon.load(settings.paths.voices / "lexicon.toml")
        print(speak.spoken_text(segment, lexicon))
        return 0
    profile, lexicon = load_voice(settings)
    from .model import Script

    planned = speak.plan(Script(0, "say", (), (segment,)), profile, lexicon)
    cache = speak.SpeechCache(settings.paths.cache / "speech")
    spoken = next(iter(speak.synthesize(planned, profile, cache)))
    with wave.open(args.output, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(spoken.speech.sample_rate)
        wav.writeframes(spoken.speech.samples.tobytes())
    print(" ".join(line.spoken for line in spoken.lines))
    log.info("wrote %s (%.1f s)", args.output, len(spoken.speech.samples) / spoken.speech.sample_rate)
    return 0


COMMANDS = {"episode": cmd_episode, "publish": cmd_publish, "script": cmd_script, "say": cmd_say}

if __name__ == "__main__":
    sys.exit(main())
