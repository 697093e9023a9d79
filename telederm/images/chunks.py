"""Photos in pieces: a resumable upload whose pieces may reach any app server.

A phone on a weak line loses a 3 MB upload more often than a 1 MB one, and starting the whole
photo again wastes what already arrived. So the browser cuts a large photo into pieces of
``CHUNK_BYTES`` and sends each with the photo's ``upload_id``, its offset and the total size;
a piece that got no answer is sent again.

Nothing is kept in the memory or on the local disk of the server that receives a piece: its
bytes go to the default storage (the object store in production), and an ``UploadChunk`` row
records it, unique per (upload, index), so a repeated piece is harmless. The request that
completes the set locks the ``ChunkedUpload`` row, joins the pieces and hands the whole file to
``services.add_image`` (validation, metadata removal, audit) exactly once, even when two
servers receive the last pieces at the same moment: the second waits for the lock and finds
the photo stored. Pieces of uploads that never finish are swept after a day
(``cleanup.remove_stale_uploads``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from telederm.accounts.models import User
from telederm.audit.services import Actor
from telederm.images import services
from telederm.images.models import ChunkedUpload, ImageKind, LesionImage, UploadChunk
from telederm.images.processing import REJECTION_MESSAGES
from telederm.referrals import access
from telederm.referrals.models import ReferralLesion

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
# Each unfinished upload may hold up to TELEDERM_IMAGE_MAX_BYTES of storage until it is swept:
# one user cannot have more than this many open at once.
MAX_OPEN_UPLOADS = 20
PARTIAL_ROOT = "partial"

# ValidationError codes of this module and the HTTP status the view answers with.
INCOMPLETE = "incomplete"
TOO_LARGE = "too_large"
CONFLICT = "conflict"
BUSY = "busy"


@dataclass(frozen=True)
class Piece:
    """One request's piece of a photo, as the browser described it."""

    upload_id: UUID
    kind: str
    total_bytes: int
    offset: int
    data: bytes


@dataclass(frozen=True)
class Outcome:
    """The stored photo once every piece is in; until then the indexes still missing."""

    image: LesionImage | None = None
    created: bool = False
    missing: tuple[int, ...] = ()


def max_chunks() -> int:
    return -(-settings.TELEDERM_IMAGE_MAX_BYTES // CHUNK_BYTES)


def _incomplete() -> ValidationError:
    return ValidationError(_("The upload was incomplete. Try again."), code=INCOMPLETE)


def _conflict() -> ValidationError:
    # The same upload id with another size, kind or bytes: not a retry of the same photo.
    return ValidationError(_("The upload was incomplete. Try again."), code=CONFLICT)


def check_piece(piece: Piece) -> int:
    """Validate a piece on its own; returns its index. Pieces are ``CHUNK_BYTES`` long except
    the last, so offset and length follow from the total and nothing can overlap."""
    if piece.kind not in ImageKind.values:
        raise ValidationError(
            _("Say whether this is an overview or a dermoscopic photo."), code="kind"
        )
    if piece.total_bytes > settings.TELEDERM_IMAGE_MAX_BYTES:
        raise ValidationError(
            _("The photo is larger than 25 MB. Take it again at normal size."), code=TOO_LARGE
        )
    if piece.total_bytes < 1 or not 0 <= piece.offset < piece.total_bytes:
        raise _incomplete()
    if piece.offset % CHUNK_BYTES or len(piece.data) != min(
        CHUNK_BYTES, piece.total_bytes - piece.offset
    ):
        raise _incomplete()
    index = piece.offset // CHUNK_BYTES
    if index >= max_chunks():
        raise _incomplete()
    return index


def receive_chunk(*, link: ReferralLesion, piece: Piece, by: Actor) -> Outcome:
    """Store one piece; when it completes the photo, store the photo (once)."""
    user = by.user
    if user is None or not access.can_add_images(user, link.referral):
        raise PermissionDenied
    index = check_piece(piece)
    stored = LesionImage.objects.filter(referral_lesion=link, upload_id=piece.upload_id).first()
    if stored is not None:
        # A piece repeated after the photo was stored (its answer was lost): the same answer.
        return Outcome(image=stored)
    upload = _open_upload(link, piece, user)
    if upload.image_id is None and not upload.error:
        _store_piece(upload, index, piece.data)
    return _finish(upload.pk, link, by)


def _open_upload(link: ReferralLesion, piece: Piece, user: User) -> ChunkedUpload:
    upload = ChunkedUpload.objects.filter(referral_lesion=link, upload_id=piece.upload_id).first()
    if upload is None:
        open_uploads = ChunkedUpload.objects.filter(started_by=user, completed_at__isnull=True)
        if open_uploads.count() >= MAX_OPEN_UPLOADS:
            raise ValidationError(
                _("Too many photos are still on their way. Wait a minute, then try again."),
                code=BUSY,
            )
        try:
            with transaction.atomic():
                upload = ChunkedUpload.objects.create(
                    referral_lesion=link,
                    upload_id=piece.upload_id,
                    kind=piece.kind,
                    total_bytes=piece.total_bytes,
                    chunk_bytes=CHUNK_BYTES,
                    started_by=user,
                )
        except IntegrityError:
            # Two first pieces at once (two servers): the other request created the row.
            upload = ChunkedUpload.objects.get(referral_lesion=link, upload_id=piece.upload_id)
    if (upload.total_bytes, upload.kind, upload.chunk_bytes) != (
        piece.total_bytes,
        piece.kind,
        CHUNK_BYTES,
    ):
        raise _conflict()
    return upload


def _piece_name(upload: ChunkedUpload, index: int) -> str:
    # A random part per write: two servers writing the same piece never share a file, and the
    # row that wins the unique (upload, index) names the file that counts.
    return f"{PARTIAL_ROOT}/{upload.public_id.hex}.{index:04d}.{secrets.token_hex(6)}.part"


def _store_piece(upload: ChunkedUpload, index: int, data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    known = UploadChunk.objects.filter(upload=upload, index=index).first()
    if known is None:
        name = default_storage.save(_piece_name(upload, index), ContentFile(data))
        try:
            with transaction.atomic():
                UploadChunk.objects.create(
                    upload=upload, index=index, size=len(data), sha256=digest, name=name
                )
            return
        except IntegrityError:
            # The same piece arrived twice at once, or the upload was finished or swept
            # meanwhile: this copy is not needed.
            delete_quietly(name)
            known = UploadChunk.objects.filter(upload=upload, index=index).first()
    if known is not None and (known.sha256, known.size) != (digest, len(data)):
        raise _conflict()


def _finish(upload_pk: int, link: ReferralLesion, by: Actor) -> Outcome:
    refused: ValidationError | None = None
    with transaction.atomic():
        # The lock makes "all pieces are in → store the photo" happen once across servers.
        # (FOR NO KEY UPDATE: pieces being recorded meanwhile need not wait for it.)
        upload = ChunkedUpload.objects.select_for_update(no_key=True).filter(pk=upload_pk).first()
        if upload is None:
            # Swept between the piece and this point: the browser starts the photo again.
            raise _incomplete()
        if upload.image_id is not None or upload.error:
            # A copy of the last piece that another server recorded after this upload was
            # finished (its pieces already cleared) is not needed: drop it with its file.
            drop_pieces(upload)
        if upload.image_id is not None:
            return Outcome(image=LesionImage.objects.get(pk=upload.image_id))
        if upload.error:
            raise _refusal(upload.error)
        pieces = list(upload.chunks.order_by("index"))
        present = {piece.index for piece in pieces}
        missing = tuple(i for i in range(upload.chunk_count) if i not in present)
        if missing:
            return Outcome(missing=missing)
        raw, lost = _join(pieces)
        if lost:
            # A stored piece is gone or damaged: forget it, so that the browser sends it again.
            UploadChunk.objects.filter(pk__in=[piece.pk for piece in lost]).delete()
            return Outcome(missing=tuple(piece.index for piece in lost))
        image: LesionImage | None = None
        created = False
        try:
            image, created = services.add_image(
                link=link, kind=upload.kind, raw=raw, upload_id=upload.upload_id, by=by
            )
        except ValidationError as exc:
            # The whole file is refused (not a photo, too many pixels …): remember why, so a
            # repeated last piece gets the same answer without a second rejection.
            refused = exc
            code = getattr(exc, "code", None)
            upload.error = code if code in REJECTION_MESSAGES else " ".join(exc.messages)
        upload.image = image
        upload.completed_at = timezone.now()
        upload.save(update_fields=["image", "error", "completed_at"])
        drop_pieces(upload)
    if refused is not None:
        raise refused
    return Outcome(image=image, created=created)


def drop_pieces(upload: ChunkedUpload) -> None:
    """Delete the upload's piece rows, and their files once the transaction has committed."""
    names = list(upload.chunks.values_list("name", flat=True))
    if names:
        upload.chunks.all().delete()
        transaction.on_commit(lambda: delete_all_quietly(names))


def _refusal(error: str) -> ValidationError:
    if error in REJECTION_MESSAGES:
        return ValidationError(str(REJECTION_MESSAGES[error]), code=error)
    return ValidationError(error, code="rejected")


def _join(pieces: list[UploadChunk]) -> tuple[bytes, list[UploadChunk]]:
    parts: list[bytes] = []
    lost: list[UploadChunk] = []
    for piece in pieces:
        try:
            with default_storage.open(piece.name, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:  # the file storage and django-storages' S3 say so alike
            logger.warning("stored piece %s of upload %s is missing", piece.name, piece.upload_id)
            lost.append(piece)
            continue
        if len(data) != piece.size or hashlib.sha256(data).hexdigest() != piece.sha256:
            logger.warning("stored piece %s of upload %s is damaged", piece.name, piece.upload_id)
            lost.append(piece)
            continue
        parts.append(data)
    return b"".join(parts), lost


def delete_all_quietly(names: list[str]) -> None:
    for name in names:
        delete_quietly(name)


def delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # the sweep finds it later
        logger.warning("could not delete %s", name)
