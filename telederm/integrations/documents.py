"""The referral and the answer as PDF documents for the image archive (Encapsulated PDF).

Written in Swedish, the language of the record, whatever the language of the worker. The same
referral gives the same bytes (fixed creation date), so a repeated export stores the same thing.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from telederm.lib.pdf import Document
from telederm.referrals.bodysites import get_site
from telederm.referrals.forms import HistoryForm
from telederm.referrals.models import Laterality, Referral
from telederm.review.forms import AnswerForm
from telederm.review.models import Answer


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _patient_rows(referral: Referral) -> list[tuple[str, str]]:
    patient = referral.patient
    assert patient is not None
    name = _("Protected identity") if patient.protected_identity else patient.name
    return [
        (_("Patient"), f"{patient.personal_number}  {name}".strip()),
        (_("Referral number"), referral.number or ""),
        (_("Clinic"), referral.clinic.name),
        (_("Referring doctor"), referral.author.full_name),
        (_("Sent"), _when(referral.sent_at)),
    ]


def _history_rows(referral: Referral) -> list[tuple[str, str]]:
    labels = HistoryForm.Meta.labels
    rows: list[tuple[str, str]] = []
    for field, label in labels.items():
        value = getattr(referral, field)
        if isinstance(value, bool):
            text = _("Yes") if value else ""
        else:
            display = getattr(referral, f"get_{field}_display", None)
            text = str(display()) if display and value else str(value or "")
        rows.append((str(label), text))
    return rows


def referral_pdf(referral: Referral) -> bytes:
    """The referral as the GP sent it: patient, history and lesions."""
    with override("sv"):
        doc = Document(
            _("Teledermoscopy referral %(number)s") % {"number": referral.number or ""},
            referral.sent_at or referral.created_at,
        )
        doc.rows(_patient_rows(referral))
        doc.heading(_("History"))
        doc.rows(_history_rows(referral))
        doc.heading(_("Lesions"))
        for position, link in enumerate(
            referral.lesion_links.select_related("lesion").order_by("position", "pk"), start=1
        ):
            lesion = link.lesion
            site = get_site(lesion.body_site)
            doc.rows(
                [
                    (
                        _("Lesion %(number)s") % {"number": position},
                        "; ".join(
                            part
                            for part in (
                                str(site.label),
                                str(Laterality(lesion.laterality).label),
                                lesion.label,
                            )
                            if part
                        ),
                    )
                ]
            )
        return doc.output()


def answer_pdf(answer: Answer) -> bytes:
    """The dermatologist's answer with every amendment, newest last."""
    referral = answer.referral
    labels = AnswerForm.Meta.labels
    with override("sv"):
        doc = Document(
            _("Answer to teledermoscopy referral %(number)s") % {"number": referral.number or ""},
            answer.sent_at or referral.created_at,
        )
        doc.rows(_patient_rows(referral))
        doc.heading(_("Assessment"))
        months = answer.follow_up_months
        action = answer.get_action_display()
        if months:
            action = f"{action} ({months} mån)"
        doc.rows(
            [
                (str(labels["diagnosis"]), f"{answer.get_diagnosis_display()} {answer.icd10}"),
                (str(labels["certainty"]), str(answer.get_certainty_display())),
                (str(labels["action"]), str(action)),
                (str(labels["text_to_gp"]), answer.text_to_gp),
                (str(labels["teaching_comment"]), answer.teaching_comment),
                (_("Answered by"), answer.author.full_name),
                (_("Review unit"), referral.review_unit.name if referral.review_unit else ""),
                (_("Answered"), _when(answer.sent_at)),
            ]
        )
        if answer.second_reader is not None:
            doc.rows(
                [
                    (
                        _("Second reading"),
                        f"{answer.second_reader.full_name}, {_when(answer.second_read_at)}",
                    )
                ]
            )
        for amendment in answer.amendments.select_related("author"):
            doc.heading(_("Amendment %(when)s") % {"when": _when(amendment.created_at)})
            doc.rows(
                [
                    (_("Amendment"), amendment.text),
                    (_("Reason"), amendment.reason),
                    (_("By"), amendment.author.full_name),
                ]
            )
        return doc.output()
