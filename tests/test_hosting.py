"""`publish --to`: the site copied to a folder, and uploaded to a real S3-compatible server on 127.0.0.1."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import socket
import urllib.request
import uuid

import podcastparser
import pytest
from lxml import etree

from audio_edition import cli, hosting
from audio_edition.errors import SettingsError
from audio_edition.hosting import Bucket, Folder, HostingError, push
from audio_edition.podcast import PODCAST
from audio_edition.publish import publish
from conftest import REPO, make_settings

ACCESS_KEY = "AKIAEXAMPLEKEYID0042"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(scope="module")
def s3_server():
    """moto's standalone S3 server, a real HTTP server on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch, tmp_path):
    """Credentials only from the environment, as in production; no ~/.aws, never the instance metadata service."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def bucket(s3_server) -> str:
    import boto3

    name = f"show-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read(name)))
    return name


def public_read(bucket: str) -> dict:
    """The bucket policy the README gives: anyone may read, as podcast apps do, without credentials."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}


def bucket_settings(tmp_path, speech_cache, built_episodes, s3_server, bucket, **more):
    """The show hosted in the bucket under show/: the feed's URLs point at the S3 server."""
    return make_settings(tmp_path, speech_cache, **{
        "paths.episodes": str(built_episodes),
        "podcast.base_url": f"{s3_server}/{bucket}/show",
        "hosting.endpoint": s3_server,
        "hosting.bucket": bucket,
        "hosting.prefix": "show",
        **more,
    })


def fetch(url: str) -> tuple[bytes, "http.client.HTTPMessage"]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


def test_a_podcast_app_can_subscribe_to_the_bucket(tmp_path, speech_cache, built_episodes, s3_server, bucket):
    settings = bucket_settings(tmp_path, speech_cache, built_episodes, s3_server, bucket)
    publish(settings)
    pushed = push(settings, "s3")

    public = settings.paths.public
    assert set(pushed.copied) == set(hosting.site_files(public)) and pushed.unchanged == 0
    assert pushed.copied[-1] == "feed.xml"
    media = [n for n in pushed.copied if n.endswith((".mp3", ".opus", ".vtt", ".srt", ".json", ".jpg"))]
    assert list(pushed.copied[:len(media)]) == media, "media go up before the pages and the feed"

    feed_bytes, headers = fetch(settings.podcast.feed_url)
    assert feed_bytes == (public / "feed.xml").read_bytes()
    assert headers["Content-Type"] == "application/rss+xml"
    assert headers["Cache-Control"] == "public, max-age=300"
    feed = podcastparser.parse(settings.podcast.feed_url, io.BytesIO(feed_bytes))
    [episode] = feed["episodes"]
    [enclosure] = episode["enclosures"]
    audio, headers = fetch(enclosure["url"])
    assert audio == (public / "episodes/an-007/an-007.mp3").read_bytes()
    assert len(audio) == enclosure["file_size"]
    assert headers["Content-Type"] == "audio/mpeg"
    assert headers["Cache-Control"] == "public, max-age=604800"
    item = etree.fromstring(feed_bytes).find("channel/item")
    transcript, headers = fetch(item.find(f"{{{PODCAST}}}transcript").get("url"))
    assert transcript.startswith(b"WEBVTT") and headers["Content-Type"].startswith("text/vtt")
    chapters, headers = fetch(item.find(f"{{{PODCAST}}}chapters").get("url"))
    assert json.loads(chapters)["chapters"] and headers["Content-Type"] == "application/json+chapters"
    page, headers = fetch(f"{settings.podcast.base_url}/index.html")
    assert b"Small tests of a big pipeline" in page and headers["Content-Type"].startswith("text/html")

    again = push(settings, "s3")
    assert again.copied == () and again.unchanged == len(pushed.copied)


def test_only_what_changed_is_uploaded_and_the_feed_goes_last(tmp_path, speech_cache, built_episodes, s3_server,
                                                              bucket):
    settings = bucket_settings(tmp_path, speech_cache, built_episodes, s3_server, bucket)
    publish(settings)
    push(settings, "s3")
    changed = settings.replace(**{"podcast.description": "A new description of the show."})
    publish(changed)
    pushed = push(changed, "s3")
    assert pushed.copied[-1] == "feed.xml"
    assert set(pushed.copied) == {"index.html", "episodes/an-007.html", "feed.xml"}
    page, _ = fetch(f"{settings.podcast.base_url}/index.html")
    assert b"A new description of the show." in page


def test_the_cli_publishes_to_s3_and_never_logs_the_credentials(tmp_path, built_episodes, s3_server, bucket, caplog):
    settings_file = tmp_path / "edition.toml"
    settings_file.write_text(f"""
[podcast]
base_url = "{s3_server}/{bucket}/elsewhere"
cover = "{REPO / 'audio' / 'cover.jpg'}"
[paths]
episodes = "{built_episodes}"
public = "{tmp_path / 'public'}"
[hosting]
target = "s3"
endpoint = "{s3_server}"
bucket = "not-this-one"
""")
    caplog.set_level("DEBUG")
    assert cli.main(["-v", "--settings", str(settings_file), "publish", "--to", f"s3://{bucket}/elsewhere/"]) == 0
    feed, _ = fetch(f"{s3_server}/{bucket}/elsewhere/feed.xml")
    assert feed == (tmp_path / "public" / "feed.xml").read_bytes()
    assert "uploaded elsewhere/feed.xml" in caplog.text
    assert ACCESS_KEY not in caplog.text and SECRET_KEY not in caplog.text


def test_s3_failures_are_one_clear_sentence(tmp_path, speech_cache, built_episodes, s3_server, monkeypatch):
    settings = bucket_settings(tmp_path, speech_cache, built_episodes, s3_server, "no-such-bucket")
    publish(settings)
    with pytest.raises(HostingError, match="the bucket no-such-bucket does not exist"):
        push(settings, "s3")
    closed = closed_port_url()
    with pytest.raises(HostingError, match=f"cannot reach the S3 endpoint {closed}"):
        push(settings.replace(**{"hosting.endpoint": closed}), "s3")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(HostingError, match="no S3 credentials"):
        push(settings, "s3")
    with pytest.raises(SettingsError, match="hosting.bucket is empty"):
        push(settings.replace(**{"hosting.bucket": ""}), "s3")


def closed_port_url() -> str:
    """The URL of a port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_publishing_to_a_folder_copies_what_changed_feed_last(published_site, tmp_path):
    site = tmp_path / "www"
    first = push(published_site, str(site))
    public = published_site.paths.public
    assert first.copied[-1] == "feed.xml" and first.unchanged == 0
    for name in hosting.site_files(public):
        assert (site / name).read_bytes() == (public / name).read_bytes()
    assert push(published_site, str(site)).copied == ()
    (site / "index.html").write_text("an old page")
    assert push(published_site, str(site)).copied == ("index.html",)
    assert not list(site.rglob(".*")), "no temporary files left behind"


def test_the_folder_target_comes_from_the_settings(published_site, tmp_path):
    assert push(published_site).copied == (), "with no hosting.folder, public/ itself is the site"
    configured = published_site.replace(**{"hosting.folder": str(tmp_path / "docroot")})
    assert "feed.xml" in push(configured).copied
    assert (tmp_path / "docroot" / "feed.xml").is_file()
    with pytest.raises(HostingError, match="inside"):
        push(published_site, str(published_site.paths.public / "copy"))


def test_targets_are_parsed_from_the_flag_or_the_settings(settings, tmp_path):
    s3 = settings.replace(**{"hosting.bucket": "b", "hosting.prefix": "/pod/cast/", "hosting.endpoint": "http://s3"})
    assert hosting.target(s3, "s3") == Bucket("b", "pod/cast/", "http://s3", "")
    assert hosting.target(s3, "s3://other") == Bucket("other", "", "http://s3", "")
    assert hosting.target(s3, "s3://other/x/y") == Bucket("other", "x/y/", "http://s3", "")
    assert hosting.target(s3, str(tmp_path / "www")) == Folder(tmp_path / "www")
    assert hosting.target(s3) is None
    assert hosting.target(s3.replace(**{"hosting.target": "s3"})) == Bucket("b", "pod/cast/", "http://s3", "")
    with pytest.raises(SettingsError, match="hosting.target"):
        hosting.target(s3.replace(**{"hosting.target": "ftp"}))


# --- what is published is public/'s own regular files, never what a link points to ---------------------

OUTSIDE = "the secret outside public/"


def plant_links(public, tmp_path) -> set[str]:
    """Links and special files in public/, as a careless deploy script or a shared folder might leave
    them; returns the names the log must give as skipped."""
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "secret.txt").write_text(OUTSIDE)
    (outside / "private" / "key.txt").write_text(OUTSIDE)
    (public / "secret.txt").symlink_to(outside / "secret.txt")  # a file outside
    (public / "episodes" / "private").symlink_to(outside / "private")  # a folder outside
    (public / "alias.xml").symlink_to(public / "feed.xml")  # even a link inside public/
    (public / "dangling.mp3").symlink_to(tmp_path / "nothing-here")
    os.mkfifo(public / "pipe.json")  # a reader of a FIFO would wait for ever
    return {"secret.txt", "episodes/private", "alias.xml", "dangling.mp3", "pipe.json"}


def skipped(caplog) -> set[str]:
    return {m.group(1) for r in caplog.records if (m := re.match(r"not published: (\S+) is ", r.getMessage()))}


def test_links_and_special_files_in_public_are_skipped_and_named(published_site, tmp_path, caplog):
    public = published_site.paths.public
    planted = plant_links(public, tmp_path)
    pushed = push(published_site, str(tmp_path / "www"))
    copied = {p.relative_to(tmp_path / "www").as_posix() for p in (tmp_path / "www").rglob("*") if not p.is_dir()}
    assert copied == set(pushed.copied) and "feed.xml" in copied
    assert not copied & planted
    assert not any(OUTSIDE in p.read_text(errors="replace") for p in (tmp_path / "www").rglob("*.txt"))
    assert not any(p.is_symlink() for p in (tmp_path / "www").rglob("*"))
    assert skipped(caplog) == planted


def test_a_link_waiting_in_the_target_folder_is_replaced_not_written_through(published_site, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("must stay")
    (www / "index.html").symlink_to(victim)
    (www / ".feed.xml.tmp").symlink_to(victim)  # a temporary name planted ahead of the copy
    push(published_site, str(www))
    assert victim.read_text() == "must stay"
    assert not (www / "index.html").is_symlink()
    assert (www / "index.html").read_bytes() == (published_site.paths.public / "index.html").read_bytes()


def test_links_in_public_are_not_uploaded_to_s3(tmp_path, speech_cache, built_episodes, s3_server, bucket, caplog):
    import boto3

    settings = bucket_settings(tmp_path, speech_cache, built_episodes, s3_server, bucket)
    publish(settings)
    planted = plant_links(settings.paths.public, tmp_path)
    push(settings, "s3")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert "show/feed.xml" in keys
    assert not {key.removeprefix("show/") for key in keys} & planted
    assert not any(key.startswith("show/episodes/private") for key in keys)
    assert skipped(caplog) == planted
