"""`publish --to`: puts public/ where listeners fetch it, a folder (any static host) or an S3-compatible bucket.

Media go first and the feed last, so an app never reads a feed that names a file not there yet;
only what changed is copied, so publishing one more episode does not re-upload the whole show.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from . import files
from .errors import PublishError, SettingsError
from .settings import Settings

log = logging.getLogger(__name__)

FEED = "feed.xml"
TYPES = {
    ".xml": "application/rss+xml",
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".opus": "audio/ogg",
    ".srt": "application/x-subrip; charset=utf-8",
}
MEDIA = {".mp3", ".vtt", ".json", ".jpg", ".jpeg", ".png", ".opus", ".srt"}
SHORT = "public, max-age=300"
"""The feed and the pages: apps and readers see a new episode within minutes."""
LONG = "public, max-age=604800"
"""Media: a week; an episode's files change only if its issue is rebuilt."""


class HostingError(PublishError):
    pass


@dataclass(frozen=True)
class Folder:
    path: Path

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class Bucket:
    bucket: str
    prefix: str
    endpoint: str
    region: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class Pushed:
    """What a push did: the files copied, in the order they were, and how many were already there."""

    target: str
    copied: tuple[str, ...]
    unchanged: int


NAMED_TYPES = {"chapters.json": "application/json+chapters"}
"""Files whose name, not only their suffix, says what they are: the Podcasting 2.0 chapters."""


def content_type(relative: str) -> str:
    path = PurePosixPath(relative)
    return NAMED_TYPES.get(path.name) or TYPES.get(path.suffix.lower(), "application/octet-stream")


def cache_control(relative: str) -> str:
    return LONG if PurePosixPath(relative).suffix.lower() in MEDIA else SHORT


def target(settings: Settings, spec: str | None = None) -> Folder | Bucket | None:
    """'folder', 's3', 's3://BUCKET/PREFIX' or a folder path; None when the target is public/ itself."""
    hosting = settings.hosting
    from_settings = not spec
    spec = spec or hosting.target
    if spec == "folder":
        if not hosting.folder:
            return None
        return Folder((settings.root / Path(hosting.folder).expanduser()).resolve())
    if spec == "s3" or spec.startswith("s3://"):
        bucket, prefix = hosting.bucket, hosting.prefix
        if spec.startswith("s3://"):
            bucket, _, prefix = spec[len("s3://"):].partition("/")
        if not bucket:
            raise SettingsError("hosting.bucket is empty: name the bucket in edition.toml or pass --to s3://BUCKET/PREFIX")
        return Bucket(bucket, _prefix(prefix), hosting.endpoint, hosting.region)
    if from_settings:
        raise SettingsError(f"hosting.target must be 'folder' or 's3', not {spec!r}")
    return Folder(Path(spec).expanduser().resolve())


def push(settings: Settings, spec: str | None = None) -> Pushed:
    """Copy what changed in public/ to the target: media, then pages, then feed.xml."""
    public = settings.paths.public.resolve()
    where = target(settings, spec)
    if where is None:
        return Pushed(str(public), (), 0)
    names = site_files(public)
    if FEED not in names:
        raise HostingError(f"nothing to publish: {public}/{FEED} does not exist (run `audio-edition publish`)")
    if _local(settings.podcast.base_url):
        log.warning("podcast.base_url is %s: the feed sends listeners to this machine, not to %s",
                    settings.podcast.base_url, where)
    pushed = _to_folder(public, where, names) if isinstance(where, Folder) else _to_bucket(public, where, names)
    log.info("published to %s: %d file(s) copied, %d unchanged", where, len(pushed.copied), pushed.unchanged)
    return pushed


def site_files(public: Path) -> list[str]:
    """Every file of the site, relative, in upload order: media, then pages and styles, feed.xml last.
    Only regular files inside public/ count: a symbolic link (to a file or a folder, inside or outside
    public/) or a special file is skipped and named in the log; hidden files (temporary ones) are left."""
    names = []
    for folder, dirs, found in os.walk(public):  # lists a linked folder in dirs, never descends into it
        here = Path(folder)
        for name in [name for name in dirs if name.startswith(".") or _not_published(here / name, public)]:
            dirs.remove(name)
        names += [(here / name).relative_to(public).as_posix() for name in found
                  if not name.startswith(".") and not _not_published(here / name, public)]
    return sorted(names, key=lambda name: (_rank(name), name))


def _not_published(path: Path, public: Path) -> bool:
    """Whether a name in public/ is a link or a special file, which are never published; the log says so."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return True  # gone since the folder was listed
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return False
    kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
    log.warning("not published: %s is %s", path.relative_to(public).as_posix(), kind)
    return True


def _rank(name: str) -> int:
    if name == FEED:
        return 2
    return 0 if PurePosixPath(name).suffix.lower() in MEDIA else 1


def _to_folder(public: Path, folder: Folder, names: list[str]) -> Pushed:
    root = folder.path
    if root == public:
        return Pushed(str(root), (), len(names))
    if root.is_relative_to(public):
        raise HostingError(f"the folder target {root} is inside {public}; choose a folder outside it")
    copied = []
    for name in names:
        source, dest = public / name, root / name
        try:
            if files.same(source, dest):
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp")
            tmp.unlink(missing_ok=True)
            with files.open_regular(source) as reading, tmp.open("xb") as writing:  # "x": never through a link
                shutil.copyfileobj(reading, writing)
            os.replace(tmp, dest)  # replaces a link at dest, never what it points to
        except OSError as exc:
            raise HostingError(f"cannot copy {name} to {root} ({exc.strerror or exc})") from None
        log.debug("copied %s", name)
        copied.append(name)
    return Pushed(str(root), tuple(copied), len(names) - len(copied))


def _to_bucket(public: Path, where: Bucket, names: list[str]) -> Pushed:
    client = _client(where)
    copied = []
    with _s3_errors(where):
        remote = _listing(client, where)
        for name in names:
            path, key = public / name, where.prefix + name
            try:
                md5 = files.digest(path, "md5")
                if _unchanged(client, where, key, path.lstat().st_size, md5, remote.get(key)):
                    continue
                _upload(client, where, key, path, md5, name)
            except OSError as exc:
                raise HostingError(f"cannot upload {name} ({exc.strerror or exc})") from None
            log.debug("uploaded %s", key)
            copied.append(name)
    return Pushed(str(where), tuple(copied), len(names) - len(copied))


def _client(where: Bucket):
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise HostingError("publishing to S3 needs boto3: pip install 'audio-edition[s3]'") from None
    # botocore's debug log prints request headers, and they carry the access key id: keep it quiet.
    for name in ("botocore", "boto3", "s3transfer"):
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.INFO))
    config = Config(
        connect_timeout=10,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path" if where.endpoint else "auto"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=where.endpoint or None, region_name=where.region or None, config=config)


def _listing(client, where: Bucket) -> dict[str, tuple[int, str]]:
    """key -> (size, ETag) for everything already under the prefix."""
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=where.bucket, Prefix=where.prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = (item["Size"], item["ETag"].strip('"'))
    return found


def _unchanged(client, where: Bucket, key: str, size: int, md5: str, remote: tuple[int, str] | None) -> bool:
    """Same size and same MD5: the ETag of a single-part upload, else the md5 we stored beside it."""
    if remote is None or remote[0] != size:
        return False
    if remote[1] == md5:
        return True
    head = client.head_object(Bucket=where.bucket, Key=key)
    return head.get("Metadata", {}).get("md5") == md5


def _upload(client, where: Bucket, key: str, path: Path, md5: str, name: str) -> None:
    with files.open_regular(path) as body:
        client.put_object(
            Bucket=where.bucket,
            Key=key,
            Body=body,
            ContentType=content_type(name),
            CacheControl=cache_control(name),
            ContentMD5=base64.b64encode(bytes.fromhex(md5)).decode(),
            Metadata={"md5": md5},
        )


@contextlib.contextmanager
def _s3_errors(where: Bucket):
    """botocore's failures as one sentence each; never the credentials."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

    try:
        yield
    except NoCredentialsError:
        raise HostingError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                           "or AWS_PROFILE, in the environment") from None
    except EndpointConnectionError:
        raise HostingError(f"cannot reach the S3 endpoint {where.endpoint or 'of AWS'}") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        if code == "NoSuchBucket":
            raise HostingError(f"the bucket {where.bucket} does not exist") from None
        raise HostingError(f"S3 refused {exc.operation_name} on {where} ({code}): "
                           "check the credentials and the bucket's permissions") from None
    except BotoCoreError as exc:
        raise HostingError(f"cannot publish to {where} ({exc.__class__.__name__})") from None


def _prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def _local(url: str) -> bool:
    return urlsplit(url).hostname in ("localhost", "127.0.0.1", "::1")
