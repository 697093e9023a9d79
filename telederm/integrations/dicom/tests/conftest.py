"""A real Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``) for the archive tests.

One server per test session (per xdist worker), on free loopback ports, with its storage,
index, configuration and log in a temporary folder. ``stop()`` and ``start()`` let an outage
test take it down and bring it back with the same ports and the same stored instances.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from telederm.images.processing import ingest
from telederm.images.synthetic import PhotoExif, dermoscopic_photo, encode_jpeg
from telederm.integrations.dicom.mapping import PERSONNUMMER_OID, ImageFacts, StudyFacts
from telederm.testing import photo, service_missing

ORTHANC_BINARY = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OrthancServer:
    """An Orthanc process; ``url`` is the DICOMweb root, ``http`` the REST root."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.http_port = _free_port()
        self.dicom_port = _free_port()
        self.http = f"http://127.0.0.1:{self.http_port}"
        self.url = f"{self.http}/dicom-web"
        self.log_path = workdir / "orthanc.log"
        self.config_path = workdir / "orthanc.json"
        self._process: subprocess.Popen[bytes] | None = None
        config = {
            "Name": "telederm-test",
            "StorageDirectory": str(workdir / "storage"),
            "IndexDirectory": str(workdir / "index"),
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "DicomAlwaysAllowStore": True,
            "UnknownSopClassAccepted": True,
            "HttpCompressionEnabled": False,
            "DicomWeb": {
                "Enable": True,
                "Root": "/dicom-web/",
                "Host": f"127.0.0.1:{self.http_port}",
            },
        }
        self.config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 (fixed binary, our own config)
                [str(self.binary), str(self.config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Orthanc exited at start; see {self.log_path}:\n{self.log()}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Orthanc did not answer within {START_TIMEOUT}s; see {self.log_path}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.http}/system", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    if not ORTHANC_BINARY.exists() and shutil.which("Orthanc") is None:
        service_missing("orthanc", f"{ORTHANC_BINARY} not found (apt-get install orthanc)")
    if not DICOMWEB_PLUGIN.exists():
        service_missing(
            "orthanc", f"{DICOMWEB_PLUGIN} not found (apt-get install orthanc-dicomweb)"
        )
    binary = ORTHANC_BINARY if ORTHANC_BINARY.exists() else Path(str(shutil.which("Orthanc")))
    server = OrthancServer(binary, tmp_path_factory.mktemp("orthanc"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def running_orthanc(orthanc: OrthancServer) -> OrthancServer:
    """The session's Orthanc, started again if an earlier test left it stopped."""
    orthanc.start()
    return orthanc


# --- facts and photos ----------------------------------------------------------------------------

MakeFacts = Callable[..., ImageFacts]


@pytest.fixture
def study() -> StudyFacts:
    return StudyFacts(
        referral_public_id=uuid.uuid4(),
        accession_number="TD26-000001",
        patient_id="191212121212",
        patient_id_issuer=PERSONNUMMER_OID,
        patient_name="Tolvansson^Tolvan",
        birth_date=date(1912, 12, 12),
        sex="M",
        study_datetime=datetime(2026, 3, 14, 9, 45, tzinfo=UTC),
        referring_physician="Läkare^Lisa",
        clinic_name="Vårdcentral Norrmalm",
        institution_name="Region Stockholm",
        study_description="Teledermatoskopi",
    )


@pytest.fixture
def make_facts() -> MakeFacts:
    def make(data: bytes, kind: str = "dermoscopic", **overrides: Any) -> ImageFacts:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
        values: dict[str, Any] = {
            "public_id": uuid.uuid4(),
            "kind": kind,
            "width": width,
            "height": height,
            "orientation": 1,
            "captured_at": datetime(2026, 3, 14, 9, 30, 5, tzinfo=UTC),
            "device_model": "Apple iPhone 15 Pro",
            "body_site_code": "14975008",
            "body_site_meaning": "Forearm",
            "laterality": "L",
            "mime_type": "image/jpeg",
            "sha256": hashlib.sha256(data).hexdigest(),
            "instance_number": 1,
            "lesion_number": 1,
        }
        values.update(overrides)
        return ImageFacts(**values)

    return make


@pytest.fixture(scope="session")
def dermoscopic_jpeg() -> bytes:
    """A small dermoscopic JPEG, orientation 1."""
    return photo("dermoscopic", size=(1200, 900), seed=3)


@pytest.fixture(scope="session")
def overview_jpeg() -> bytes:
    return photo("overview", size=(1200, 900), seed=4)


@pytest.fixture(scope="session")
def pipeline_jpeg() -> Callable[[int], bytes]:
    """Bytes as the ingest pipeline stores them (EXIF stripped, orientation kept) by orientation."""
    cache: dict[int, bytes] = {}

    def stored(orientation: int) -> bytes:
        if orientation not in cache:
            raw = encode_jpeg(
                dermoscopic_photo(size=(1600, 1200), seed=orientation),
                exif=PhotoExif(orientation=orientation),
            )
            result = ingest(raw, kind="dermoscopic")
            assert result.orientation == orientation
            cache[orientation] = result.data
        return cache[orientation]

    return stored
