"""A thin DICOMweb client for the regional image archive (STOW-RS, QIDO-RS, WADO-RS).

Every failure — no connection, a timeout, an HTTP error status or an archive that reports a
failed instance — becomes ``ArchiveError``, with a message that says what was asked of which
archive. The client never retries: the outbox that calls it owns retrying and back-off.
"""

from __future__ import annotations

from typing import Any

import requests
from dicomweb_client.api import DICOMwebClient
from dicomweb_client.session_utils import create_session_from_user_pass
from pydicom import Dataset
from pydicom.tag import Tag

FAILED_SOP_SEQUENCE = Tag(0x0008, 0x1198)
FAILURE_REASON = Tag(0x0008, 0x1197)
REFERENCED_SOP_INSTANCE_UID = Tag(0x0008, 0x1155)


class ArchiveError(Exception):
    """The archive could not be reached, or refused or failed the request."""


class ArchiveClient:
    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.url = url.rstrip("/")
        session = (
            create_session_from_user_pass(username, password)
            if username is not None and password is not None
            else requests.Session()
        )
        # A connect timeout of at most 5 s: a dead archive must fail fast, a slow upload not.
        self._client = DICOMwebClient(
            self.url,
            session=session,
            timeout=(min(timeout, 5.0), timeout),
            # Bodies up to 16 MiB go in one piece; larger ones (several photos, an uncompressed
            # PNG export) use chunked transfer encoding, which Orthanc accepts.
            chunk_size=16 << 20,
        )
        self._client.set_http_retry_params(retry=False)

    def __repr__(self) -> str:
        return f"ArchiveClient({self.url!r})"

    def store(self, datasets: list[Dataset]) -> None:
        """Send instances with STOW-RS; raises ``ArchiveError`` unless every one is stored."""
        if not datasets:
            return
        what = f"store {len(datasets)} instance(s)"
        try:
            response = self._client.store_instances(datasets)
        except Exception as exc:
            raise ArchiveError(self._message(what, exc)) from exc
        failed = response.get(FAILED_SOP_SEQUENCE) if response is not None else None
        if failed is not None and failed.value:
            reasons = ", ".join(
                f"{item.get(REFERENCED_SOP_INSTANCE_UID).value if REFERENCED_SOP_INSTANCE_UID in item else '?'}"
                f" (reason {item.get(FAILURE_REASON).value if FAILURE_REASON in item else '?'})"
                for item in failed.value
            )
            raise ArchiveError(f"{self.url}: {what}: the archive failed {reasons}")

    def find_study(self, study_uid: str) -> list[dict[str, Any]]:
        """The instances of a study (QIDO-RS), as DICOM JSON objects; [] when there are none."""
        what = f"search instances of study {study_uid}"
        try:
            found = self._client.search_for_instances(study_instance_uid=study_uid)
        except requests.HTTPError as exc:
            if exc.response is not None and exc.response.status_code == 404:
                return []
            raise ArchiveError(self._message(what, exc)) from exc
        except Exception as exc:
            raise ArchiveError(self._message(what, exc)) from exc
        return list(found)

    def retrieve_instance(self, study_uid: str, series_uid: str, sop_uid: str) -> Dataset:
        """One instance as the archive holds it (WADO-RS)."""
        what = f"retrieve instance {sop_uid}"
        try:
            return self._client.retrieve_instance(
                study_uid, series_uid, sop_uid, media_types=(("application/dicom", "*"),)
            )
        except Exception as exc:
            raise ArchiveError(self._message(what, exc)) from exc

    def _message(self, what: str, exc: Exception) -> str:
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            body = exc.response.text[:200].strip()
            detail = f"HTTP {exc.response.status_code} {exc.response.reason}" + (
                f": {body}" if body else ""
            )
        elif isinstance(exc, requests.Timeout):
            detail = f"timed out ({exc.__class__.__name__})"
        elif isinstance(exc, requests.ConnectionError):
            detail = f"cannot connect ({exc.__class__.__name__})"
        else:
            detail = f"{exc.__class__.__name__}: {exc}"
        return f"{self.url}: {what}: {detail}"
