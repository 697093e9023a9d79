"""Photos in an S3-compatible object store: the settings switch, and what Telederm does with
its storage (save, read, list, delete, the chunked upload, the sweeps, serving a photo) against
a real S3-protocol server (moto), with the storage configured by ``telederm/settings.py``."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from telederm.audit.services import Actor
from telederm.images import chunks
from telederm.images.cleanup import remove_orphan_files, remove_stale_uploads
from telederm.images.models import ChunkedUpload, LesionImage
from telederm.images.processing import ingest
from telederm.images.tests.s3 import S3Server, running_s3, settings_storage
from telederm.images.tests.test_chunked_upload import pieces_of, send_piece, stored_sha
from telederm.referrals import services as referrals
from telederm.referrals.models import ReferralLesion
from telederm.referrals.tests.helpers import _a_site, draft
from telederm.testing import World, login, photo

S3_BACKEND = "storages.backends.s3.S3Storage"
SMALL = 16 * 1024


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture(scope="module")
def s3_config(s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return settings_storage(s3_server.env("placeholder"), tmp_path_factory.mktemp("settings"))


@pytest.fixture
def bucket(s3_server: S3Server, s3_config: dict[str, Any], settings: Any) -> str:
    """Every test gets a bucket of its own, with the storage the settings build for it."""
    name = s3_server.new_bucket()
    options = {**s3_config["OPTIONS"], "bucket_name": name}
    settings.STORAGES = {**settings.STORAGES, "default": {**s3_config, "OPTIONS": options}}
    return name


def _keys(server: S3Server, bucket: str, prefix: str = "") -> list[str]:
    listing = server.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for item in listing.get("Contents", []))


# --- the settings switch -------------------------------------------------------------------------


def test_default_storage_is_local_files(tmp_path: Path) -> None:
    config = settings_storage({}, tmp_path)
    assert config == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_s3_switch_configures_a_private_bucket_without_public_urls(tmp_path: Path) -> None:
    config = settings_storage(
        {
            "TELEDERM_STORAGE": "s3",
            "TELEDERM_S3_BUCKET": "region-photos",
            "TELEDERM_S3_ENDPOINT_URL": "https://s3.region.example",
            "TELEDERM_S3_REGION": "eu-north-1",
            "TELEDERM_S3_ACCESS_KEY": "key-id",
            "TELEDERM_S3_SECRET_KEY": "secret",
            "TELEDERM_S3_PREFIX": "/telederm/",
        },
        tmp_path,
    )
    assert config["BACKEND"] == S3_BACKEND
    assert config["OPTIONS"] == {
        "bucket_name": "region-photos",
        "endpoint_url": "https://s3.region.example",
        "region_name": "eu-north-1",
        "access_key": "key-id",
        "secret_key": "secret",
        "location": "telederm",
        "default_acl": "private",
        "querystring_auth": True,
        "custom_domain": None,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": "path",
    }


def test_s3_switch_leaves_credentials_to_boto3_when_no_keys_are_set(tmp_path: Path) -> None:
    config = settings_storage({"TELEDERM_STORAGE": "s3", "TELEDERM_S3_BUCKET": "b"}, tmp_path)
    assert config["BACKEND"] == S3_BACKEND
    assert not {"access_key", "secret_key", "endpoint_url"} & set(config["OPTIONS"])


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"TELEDERM_STORAGE": "s3"}, "TELEDERM_S3_BUCKET must be set"),
        ({"TELEDERM_STORAGE": "s3", "TELEDERM_S3_BUCKET": "  "}, "TELEDERM_S3_BUCKET must be set"),
        ({"TELEDERM_STORAGE": "minio"}, "TELEDERM_STORAGE must be one of local, s3"),
    ],
)
def test_incomplete_s3_settings_stop_the_start(
    tmp_path: Path, env: dict[str, str], error: str
) -> None:
    with pytest.raises(RuntimeError, match=error):
        settings_storage(env, tmp_path)


# --- the storage API against the S3 server ----------------------------------------------------


def test_save_read_list_and_delete_through_the_default_storage(
    s3_server: S3Server, bucket: str
) -> None:
    data = photo("dermoscopic", seed=11)
    name = default_storage.save("originals/ab/abcdef.jpg", ContentFile(data))
    assert name == "originals/ab/abcdef.jpg"
    assert _keys(s3_server, bucket) == [name]
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == data
    assert default_storage.listdir("originals") == (["ab"], [])
    assert default_storage.listdir("originals/ab") == ([], ["abcdef.jpg"])
    assert default_storage.size(name) == len(data)
    assert default_storage.get_modified_time(name) is not None
    # An original is never replaced: a second file of the same name gets a name of its own.
    second = default_storage.save(name, ContentFile(b"other"))
    assert second != name
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == data
    # Private: nobody but the owner is granted anything on the object.
    grants = s3_server.client().get_object_acl(Bucket=bucket, Key=name)["Grants"]
    assert all("URI" not in grant["Grantee"] for grant in grants), grants
    default_storage.delete(name)
    default_storage.delete(second)
    assert not default_storage.exists(name)
    assert _keys(s3_server, bucket) == []
    with pytest.raises(FileNotFoundError):
        default_storage.open(name, "rb")


@pytest.fixture
def link(world: World) -> ReferralLesion:
    return referrals.add_lesion(
        referral=draft(world), body_site=_a_site(), laterality="L", by=Actor(user=world.gp_a)
    )


@pytest.mark.django_db
def test_chunked_upload_assembles_on_s3_and_the_photo_is_served_from_it(
    s3_server: S3Server,
    bucket: str,
    client: Client,
    world: World,
    link: ReferralLesion,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(chunks, "CHUNK_BYTES", SMALL)
    login(client, world.gp_a)
    raw = photo("dermoscopic", seed=12)
    pieces = pieces_of(raw, SMALL)
    upload_id = uuid.uuid4()
    with django_capture_on_commit_callbacks(execute=True):
        for offset, data in pieces[:-1]:
            assert send_piece(client, link, upload_id, offset, data, len(raw)).status_code == 202
        assert len(_keys(s3_server, bucket, "partial/")) == len(pieces) - 1
        last = send_piece(client, link, upload_id, *pieces[-1], len(raw))
    assert last.status_code == 201
    image = LesionImage.objects.get()
    assert image.sha256 == ingest(raw, kind="dermoscopic").sha256 == stored_sha(image)
    assert _keys(s3_server, bucket, "partial/") == []
    assert image.original.name in _keys(s3_server, bucket, "originals/")
    served = client.get(
        reverse(
            "referrals:image_file",
            args=[link.referral.public_id, image.public_id, "original"],
        )
    )
    assert served.status_code == 200
    assert hashlib.sha256(served.getvalue()).hexdigest() == image.sha256


@pytest.mark.django_db
def test_sweeps_find_their_files_in_the_object_store(
    s3_server: S3Server,
    bucket: str,
    client: Client,
    world: World,
    link: ReferralLesion,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """An object store has no folders: the sweeps must list by prefix, not ask for a folder."""
    monkeypatch.setattr(chunks, "CHUNK_BYTES", SMALL)
    login(client, world.gp_a)
    send_piece(client, link, uuid.uuid4(), 0, b"\x01" * SMALL, SMALL * 2)
    orphan = default_storage.save("originals/ff/orphan.jpg", ContentFile(b"\xff\xd8"))
    stray = default_storage.save("partial/stray.0000.x.part", ContentFile(b"\x02"))
    with django_capture_on_commit_callbacks(execute=True):
        assert remove_stale_uploads(max_age=timedelta(0)) == 1
    assert remove_orphan_files(min_age=timedelta(0)) == 1
    assert ChunkedUpload.objects.count() == 0
    assert _keys(s3_server, bucket) == []
    assert not default_storage.exists(orphan)
    assert not default_storage.exists(stray)
