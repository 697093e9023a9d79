"""The referral and answer documents sent to the archive: Swedish, complete, reproducible."""

from __future__ import annotations

import pytest
from django.utils import translation

from telederm.audit.services import Actor
from telederm.integrations.documents import answer_pdf, referral_pdf
from telederm.referrals.tests.helpers import send
from telederm.review import casework
from telederm.review import services as review
from telederm.testing import World

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    """The text of a PDF written by fpdf2 without compression (Latin-1 text operators)."""
    return pdf.decode("latin-1")


def test_referral_document(world: World) -> None:
    referral = send(world)
    with translation.override("en"):  # the worker's language does not matter
        pdf = referral_pdf(referral)
    text = _text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert referral_pdf(referral) == pdf  # the same referral gives the same bytes
    assert f"Remiss teledermatoskopi {referral.number}" in text
    assert "191212121212" in text
    assert "Är detta ett melanom?" in text


def test_answer_document_with_amendment(world: World) -> None:
    referral = send(world)
    review.take_case(referral=referral, by=Actor(user=world.derm_x))
    answer = review.send_answer(
        referral=referral,
        diagnosis="invasive_melanoma",
        certainty="probable",
        action="svf",
        text_to_gp="Misstänkt melanom – remiss enligt SVF.",
        by=Actor(user=world.derm_x),
    )
    first = answer_pdf(answer)
    casework.amend_answer(
        referral=referral,
        text="Tillägg om marginal.",
        reason="Förtydligande",
        by=Actor(user=world.derm_x),
    )
    answer.refresh_from_db()
    amended = _text(answer_pdf(answer))
    assert "C43.9" in _text(first)
    assert "Misstänkt melanom - remiss enligt SVF." in _text(first)  # dash degraded, not lost
    assert world.derm_x.full_name in _text(first)
    assert "Tillägg om marginal." not in _text(first)
    assert "Tillägg om marginal." in amended
    assert "Förtydligande" in amended
