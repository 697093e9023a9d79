"""Beyond one machine: two app servers and two task workers share nothing but PostgreSQL and
the object store, and one referral comes out whole (docs/deployment.md, "Several app servers").

Two gunicorn servers (A and B, their own ports) and two ``db_worker`` processes start against
the PostgreSQL test database and one bucket of a real S3-protocol server (moto), each process
with a data dir of its own (its own SMS file, no shared media folder). A GP logs in on A with
password and SMS code, creates a referral on B, fills it in on both, and uploads one 12 MP
photo in 1 MiB pieces alternately through A and B; the last piece goes to both at the same
moment. The referral is sent through B. Then two schedulers queue the archive export, and both
workers take what is queued. Afterwards: exactly one referral, sent; one photo, whose original
in the bucket has the SHA-256 that the single-request upload of the same file produces; and
each export job delivered to the archive (a real Orthanc) once, by one worker.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from django.db import connection
from django_tasks_db.models import DBTaskResult
from pydicom.encaps import generate_frames

from telederm.e2e.server import DemoServer
from telederm.images.chunks import CHUNK_BYTES
from telederm.images.models import ChunkedUpload, LesionImage
from telederm.images.processing import ingest
from telederm.images.synthetic import PhotoExif, dermoscopic_photo, encode_jpeg
from telederm.images.tests.s3 import running_s3
from telederm.integrations.dicom.client import ArchiveClient
from telederm.integrations.dicom.mapping import study_uid
from telederm.integrations.dicom.tests.conftest import (
    DICOMWEB_PLUGIN,
    ORTHANC_BINARY,
    OrthancServer,
)
from telederm.integrations.models import ExportJob
from telederm.referrals.models import Referral, ReferralStatus
from telederm.referrals.tests.helpers import _a_site
from telederm.testing import World, photo, service_missing

pytestmark = pytest.mark.postgres_only
PASSWORD = "two servers, one database"
EXPORT_TASK = "telederm.integrations.tasks.export_due_task"


@dataclass
class Deployment:
    a: DemoServer
    b: DemoServer
    workers: list[DemoServer]
    bucket: str
    s3: Any  # boto3 client
    archive: OrthancServer


def _database_url() -> str:
    db = connection.settings_dict  # the test database pytest-django created
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def deployment(live_db: None, tmp_path: Path) -> Iterator[Deployment]:
    if connection.vendor != "postgresql":
        pytest.skip("several servers share one PostgreSQL; SQLite is one machine's database")
    if not ORTHANC_BINARY.exists() or not DICOMWEB_PLUGIN.exists():
        service_missing("orthanc", "apt-get install orthanc orthanc-dicomweb")
    with ExitStack() as stack:
        (tmp_path / "orthanc").mkdir()
        archive = OrthancServer(ORTHANC_BINARY, tmp_path / "orthanc")
        archive.start()
        stack.callback(archive.stop)
        s3 = stack.enter_context(running_s3())
        bucket = s3.new_bucket()
        shared = {
            # What every process of a deployment is given alike; nothing else is shared.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            **s3.env(bucket),
            "TELEDERM_DICOM_URL": archive.url,
            "TELEDERM_DICOM_TIMEOUT": "10",
        }
        url = _database_url()

        def process(name: str) -> DemoServer:
            server = DemoServer(tmp_path / name, database_url=url, extra_env=shared)
            stack.callback(server.stop)
            return server

        a, b = process("server-a"), process("server-b")
        workers = [process("worker-1"), process("worker-2")]
        a.start_web(workers=1)
        b.start_web(workers=1)
        for number, worker in enumerate(workers, start=1):
            worker.start_worker(worker_id=f"worker-{number}")
        for server in (a, b):
            server.wait_until_up()
        for worker in workers:
            worker.wait_until_up(web=False)
        yield Deployment(a, b, workers, bucket, s3.client(), archive)


class Browser:
    """One GP's cookies, used against either server (as a load balancer would spread them)."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def post(self, server: DemoServer, path: str, data: dict[str, str], **kwargs: Any) -> Any:
        token = self.session.cookies.get("csrftoken") or ""
        return self.session.post(
            server.base_url + path,
            data={"csrfmiddlewaretoken": token, **data},
            headers={"X-CSRFToken": token},
            allow_redirects=False,
            timeout=60,
            **kwargs,
        )

    def login(self, server: DemoServer, email: str, mobile: str) -> None:
        self.session.get(server.base_url + "/login/", timeout=30).raise_for_status()
        sent_before = server.sms_count()
        answer = self.post(server, "/login/", {"email": email, "password": PASSWORD})
        assert answer.status_code == 302, answer.text[-2000:]
        code = server.wait_for_code(mobile, after=sent_before)
        answer = self.post(server, "/login/code/", {"code": code, "method": "sms"})
        assert answer.status_code == 302, answer.text[-2000:]

    def piece(self, server: DemoServer, path: str, upload_id: str, raw: bytes, offset: int) -> Any:
        data = {"upload_id": upload_id, "kind": "dermoscopic", "offset": str(offset)}
        data["total"] = str(len(raw))
        chunk = raw[offset : offset + CHUNK_BYTES]
        return self.post(server, path, data, files={"chunk": ("chunk", chunk)})


def _moved_to(answer: Any, pattern: str) -> re.Match[str]:
    assert answer.status_code == 302, answer.text[-2000:]
    match = re.search(pattern, answer.headers["Location"])
    assert match, answer.headers["Location"]
    return match


def _wait_for_tasks(task_path: str, count: int, timeout: float = 30.0) -> list[DBTaskResult]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        results = list(DBTaskResult.objects.filter(task_path=task_path))
        if len(results) >= count and all(r.status in ("SUCCESSFUL", "FAILED") for r in results):
            return results
        time.sleep(0.2)
    raise AssertionError(f"{task_path}: {count} results not finished within {timeout}s")


def test_two_servers_and_two_workers_make_one_referral_with_an_intact_photo(
    deployment: Deployment, world: World, settings: Any
) -> None:
    started = time.monotonic()
    a, b = deployment.a, deployment.b
    # The servers check passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    gp = world.gp_a
    gp.set_password(PASSWORD)
    gp.save(update_fields=["password"])
    raw = encode_jpeg(dermoscopic_photo(seed=21), exif=PhotoExif(orientation=1))
    expected_sha = ingest(raw, kind="dermoscopic").sha256  # what one whole upload would store
    assert len(raw) > 2 * CHUNK_BYTES

    browser = Browser()
    browser.login(a, gp.email, gp.mobile)
    referral_id = _moved_to(browser.post(b, "/referrals/new/", {}), r"/referrals/([0-9a-f-]{36})/")
    base = f"/referrals/{referral_id[1]}"
    answer = browser.post(a, f"{base}/patient/", {"personal_number": "19121212-1212"})
    _moved_to(answer, "/lesions/$")
    answer = browser.post(b, f"{base}/lesions/", {"body_site": _a_site(), "laterality": "L"})
    link = _moved_to(answer, r"/lesions/(\d+)/photos/$")[1]

    overview = browser.post(
        a,
        f"{base}/lesions/{link}/upload/",
        {"kind": "overview", "upload_id": "00000000-0000-4000-8000-000000000001"},
        files={"file": ("overview.jpg", photo("overview", seed=22))},
    )
    assert overview.status_code == 201, overview.text[-2000:]

    # The photo in pieces: A, B, A … and the last piece to both servers at the same moment.
    upload_id = "00000000-0000-4000-8000-000000000002"
    chunk_path = f"{base}/lesions/{link}/upload/chunk/"
    offsets = list(range(0, len(raw), CHUNK_BYTES))
    for number, offset in enumerate(offsets[:-1]):
        answer = browser.piece((a, b)[number % 2], chunk_path, upload_id, raw, offset)
        assert answer.status_code == 202, answer.text[-2000:]
        assert answer.json()["missing"] == list(range(number + 1, len(offsets)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        finals = list(
            pool.map(lambda s: browser.piece(s, chunk_path, upload_id, raw, offsets[-1]), (a, b))
        )
    assert sorted(answer.status_code for answer in finals) == [200, 201], [
        answer.text[-500:] for answer in finals
    ]

    for image in LesionImage.objects.filter(referral_lesion_id=int(link)).exclude(warnings=[]):
        assert browser.post(a, f"{base}/images/{image.public_id}/accept/", {}).ok
    history = {
        "question": "Är detta ett melanom?",
        "suspicion": "uncertain",
        "duration": "1-6m",
    }
    _moved_to(browser.post(a, f"{base}/history/", history), "/review/$")
    _moved_to(browser.post(b, f"{base}/send/", {}), f"{base}/$")

    # Exactly one referral, sent; one photo from the pieces, intact in the object store.
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.SENT
    assert str(referral.public_id) == referral_id[1]
    image = LesionImage.objects.get(upload_id=upload_id)
    assert LesionImage.objects.filter(referral_lesion__referral=referral).count() == 2
    assert image.sha256 == expected_sha
    stored = deployment.s3.get_object(Bucket=deployment.bucket, Key=image.original.name)
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == expected_sha
    assert ChunkedUpload.objects.get().image == image
    listing = deployment.s3.list_objects_v2(Bucket=deployment.bucket, Prefix="partial/")
    assert listing.get("KeyCount", 0) == 0, "pieces left in the bucket"

    # Two schedulers queue the export; two workers take the tasks: each job is sent once.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda server: server.manage("run_periodic", "--once"), (a, b)))
    tasks = _wait_for_tasks(EXPORT_TASK, 2)
    assert [task.status for task in tasks] == ["SUCCESSFUL", "SUCCESSFUL"], [
        task.traceback for task in tasks
    ]
    assert all(len(task.worker_ids) == 1 for task in tasks)
    assert {task.worker_ids[0] for task in tasks} <= {"worker-1", "worker-2"}
    jobs = list(ExportJob.objects.filter(event__referral=referral))
    assert len(jobs) == 1  # the referral's one event so far: sent
    assert [(job.status, job.attempts) for job in jobs] == [(ExportJob.Status.DONE, 1)]
    assert sum(task.return_value for task in tasks) == len(jobs)

    # The archive holds the photo's very bytes (orientation 1: embedded as stored).
    archive = ArchiveClient(deployment.archive.url)
    instances = archive.find_study(str(study_uid(referral.public_id)))
    assert len(instances) == 3  # two photos and the referral document
    digests = set()
    for instance in instances:
        uids = [instance[tag]["Value"][0] for tag in ("0020000D", "0020000E", "00080018")]
        dataset = archive.retrieve_instance(*uids)
        if dataset.Modality in ("DMS", "XC"):
            frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
            digests.add(hashlib.sha256(frame.rstrip(b"\0")).hexdigest())
    assert expected_sha in digests
    assert time.monotonic() - started < 60
