"""The database side of the load test (``bench/load.py``), in the load script's own process
with Django set up against the fresh load database: personas with sessions, the photos the GPs
upload, and afterwards the checks of what was stored against what the users saw.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from load_clients import Ledger, Persona, Photo

Check = tuple[str, bool, str]  # (what, passed, detail)


def personas(
    gps: int, dermatologists: int, clinics: int, units: int
) -> tuple[list[Persona], list[Persona]]:
    """GPs spread over ``clinics`` (licence; the clinic's equipment has a passed test) and
    dermatologists over ``units`` (each clinic routes to one unit), each with a session as
    after a login with password and SMS code (``telederm.testing.login``)."""
    from django.conf import settings
    from django.test import Client

    from telederm.accounts.models import User
    from telederm.testing import login
    from telederm.training.fixtures import give_tested_equipment
    from telederm.web.bench.people import people

    crew = people(clinics, units, -(-gps // clinics), -(-dermatologists // units))
    for clinic in crew.clinics:
        give_tested_equipment(clinic)

    def spread(groups: dict[int, list[int]], count: int) -> list[Persona]:
        members = list(groups.values())
        chosen = [members[n % len(members)][n // len(members)] for n in range(count)]
        found = []
        for user in User.objects.filter(pk__in=chosen).order_by("pk"):
            client = login(Client(), user)
            key = client.cookies[settings.SESSION_COOKIE_NAME].value
            found.append(Persona(user.pk, key))
        return found

    return spread(crew.gps, gps), spread(crew.dermatologists, dermatologists)


def patients(gp_number: int, per_gp: int = 20_000) -> Iterator[str]:
    """Personnummer of new patients, a range of its own per GP."""
    from telederm.web.bench.people import patient_number

    for n in range(gp_number * per_gp, (gp_number + 1) * per_gp):
        number = patient_number(n)[1]
        yield f"{number[:8]}-{number[8:]}"


def photos(pairs: int) -> tuple[tuple[Photo, Photo], ...]:
    """Phone-like JPEGs of 3 MP with EXIF (no quality warning); the overview (~1.6 MB) goes in
    pieces, the dermoscopic photo (~0.9 MB) in one request. ``sha256``: what one ingest of the
    same bytes stores."""
    from telederm.images import services
    from telederm.images.processing import ingest
    from telederm.images.synthetic import PhotoExif, dermoscopic_photo, encode_jpeg, overview_photo

    made = []
    for seed in range(pairs):
        pair = []
        for kind, draw in (("overview", overview_photo), ("dermoscopic", dermoscopic_photo)):
            raw = encode_jpeg(draw(size=(2000, 1500), seed=seed), exif=PhotoExif(orientation=1))
            result = ingest(
                raw, kind=kind, limits=services.limits(), thresholds=services.thresholds()
            )
            assert not result.quality.warnings, (kind, seed, result.quality.warnings)
            pair.append(Photo(kind, raw, result.sha256))
        made.append((pair[0], pair[1]))
    return tuple(made)


def wait_for_tasks(timeout: float) -> tuple[int, int, int]:
    """Until the task workers have finished every queued task: (all, failed, unfinished)."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + timeout
    while True:
        statuses = Counter(DBTaskResult.objects.values_list("status", flat=True))
        unfinished = sum(n for s, n in statuses.items() if s not in ("SUCCESSFUL", "FAILED"))
        if not unfinished or time.monotonic() > deadline:
            return sum(statuses.values()), statuses["FAILED"], unfinished
        time.sleep(0.5)


def _differ(seen: set[str], stored: set[str]) -> str:
    missing, extra = sorted(seen - stored)[:3], sorted(stored - seen)[:3]
    return f"seen {len(seen)}, stored {len(stored)}; missing {missing}, extra {extra}"


def verify(ledger: Ledger) -> list[Check]:
    """Compare the database and the stored files with what the users saw succeed."""
    from django.conf import settings
    from django.db.models import Count

    from telederm.audit.models import Action, AuditEvent
    from telederm.images.models import ChunkedUpload, LesionImage, UploadChunk
    from telederm.referrals.models import Referral, ReferralEvent, ReferralStatus
    from telederm.review.models import Answer

    checks: list[Check] = []

    def check(what: str, passed: bool, detail: str = "") -> None:
        checks.append((what, bool(passed), detail))

    referrals = {str(r.public_id): r for r in Referral.objects.all()}
    sent = {pid for pid, r in referrals.items() if r.sent_at is not None}
    created = set(ledger.created)
    check(
        "every referral stored was created by a GP",
        set(referrals) == created,
        _differ(created, set(referrals)),
    )
    check(
        "sent referrals stored == sends the GPs saw succeed (none lost, none extra)",
        sent == set(ledger.sent),
        _differ(set(ledger.sent), sent),
    )
    wrong_author = [
        pid
        for pid, gp in ledger.created.items()
        if pid in referrals and referrals[pid].author_id != gp
    ]
    check("each referral belongs to the GP that made it", not wrong_author, str(wrong_author[:3]))
    numbers = sorted(int(r.number.rsplit("-", 1)[1]) for r in referrals.values() if r.number)
    check(
        "referral numbers: one per sent referral, unique, 1…n without a gap",
        numbers == list(range(1, len(sent) + 1)),
        f"{len(numbers)} numbers, {len(set(numbers))} distinct",
    )

    def once_each(pairs: list[tuple[str, int]], expected: set[str]) -> tuple[bool, str]:
        counted = dict(pairs)
        twice = [k for k, n in counted.items() if n != 1]
        return (
            set(counted) == expected and not twice,
            f"{len(counted)} referrals, {len(twice)} more than once; {_differ(expected, set(counted))}",
        )

    pk_to_pid = {r.pk: pid for pid, r in referrals.items()}
    for kind, expected in (
        (ReferralEvent.Kind.SENT, sent),
        (ReferralEvent.Kind.ANSWERED, set(ledger.answered)),
    ):
        rows = ReferralEvent.objects.filter(kind=kind).values("referral").annotate(n=Count("pk"))
        passed, detail = once_each(
            [(pk_to_pid[row["referral"]], row["n"]) for row in rows], expected
        )
        check(f"one '{kind}' event per referral", passed, detail)
    audited = (
        AuditEvent.objects.filter(action=Action.REFERRAL_SENT)
        .values("target_id")
        .annotate(n=Count("pk"))
    )
    check(
        "one 'referral sent' audit event per sent referral",
        *once_each([(row["target_id"], row["n"]) for row in audited], sent),
    )

    # Photos: each referral exactly the ones uploaded, each stored whole, no file left over.
    media = Path(settings.MEDIA_ROOT)
    on_disk = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}
    referenced: set[str] = set()
    damaged: list[str] = []
    stored: dict[str, set[tuple[str, str]]] = {}
    for image in LesionImage.objects.select_related("referral_lesion__referral"):
        pid = str(image.referral_lesion.referral.public_id)
        stored.setdefault(pid, set()).add((str(image.upload_id), image.sha256))
        referenced.update((image.original.name, image.thumbnail.name, image.screen.name))
        with image.original.open("rb") as handle:
            if hashlib.sha256(handle.read()).hexdigest() != image.sha256 or image.removed_at:
                damaged.append(str(image.public_id))
    mismatched = [
        pid
        for pid in sent
        if stored.get(pid) != set(ledger.uploads.get(pid, [])) or len(stored[pid]) != 2
    ]
    unknown = set(stored) - created
    check(
        "each sent referral holds exactly its 2 uploaded photos (upload id, SHA-256 = one ingest)",
        not mismatched and not unknown,
        f"{len(mismatched)} differ: {mismatched[:3]}; {len(unknown)} unknown referrals",
    )
    count = sum(len(v) for v in stored.values())
    check(
        "every stored original has its recorded SHA-256",
        not damaged,
        f"{count} photos; {damaged[:3]}",
    )
    lesions = dict(
        Referral.objects.filter(sent_at__isnull=False)
        .annotate(n=Count("lesion_links"))
        .values_list("public_id", "n")
    )
    check(
        "each sent referral has one lesion",
        set(lesions.values()) <= {1},
        f"{len(lesions)} referrals",
    )
    orphans, missing = sorted(on_disk - referenced), sorted(referenced - on_disk)
    check(
        "no orphan file, no missing file, no piece left (media folder == the photos' files)",
        not orphans and not missing,
        f"{len(on_disk)} files; orphans {orphans[:3]}; missing {missing[:3]}",
    )
    pieces = ChunkedUpload.objects.count()
    open_uploads = ChunkedUpload.objects.filter(image__isnull=True).count()
    open_uploads += UploadChunk.objects.count()
    check(
        "every upload in pieces completed into its photo",
        not open_uploads,
        f"{pieces} uploads in pieces, {open_uploads} open",
    )
    drafts = created - sent
    check("no draft left behind", not drafts, f"{len(drafts)} drafts")

    # Answers: exactly one per answered referral, by the dermatologist who saw it succeed.
    answers = {str(a.referral.public_id): a for a in Answer.objects.select_related("referral")}
    answered = {pid for pid, r in referrals.items() if r.status == ReferralStatus.ANSWERED}
    check(
        "answers stored == answers the dermatologists saw succeed",
        set(answers) == set(ledger.answered) == answered,
        _differ(set(ledger.answered), set(answers)),
    )
    wrong_answers = [
        pid
        for pid, a in answers.items()
        if a.author_id != ledger.answered.get(pid) or a.sent_at is None
    ]
    check(
        "each answer sent, by the dermatologist who answered",
        not wrong_answers,
        str(wrong_answers[:3]),
    )
    taken = [pid for pid, r in referrals.items() if r.status == ReferralStatus.IN_REVIEW]
    check("no case left taken without an answer", not taken, f"{len(taken)} in review")
    return checks


def media_bytes() -> int:
    from django.conf import settings

    total = 0
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        total += sum(os.path.getsize(os.path.join(root, name)) for name in files)
    return total
