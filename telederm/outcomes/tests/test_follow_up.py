"""Registering what happened after the answer: rules, access, audit trail, and the pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.accounts.models import Role
from telederm.audit.models import Action as AuditAction
from telederm.audit.models import AuditEvent
from telederm.audit.services import Actor
from telederm.outcomes.models import FollowUp
from telederm.outcomes.services import FollowUpData, check, save_follow_up
from telederm.outcomes.tests import helpers
from telederm.referrals.models import Referral
from telederm.testing import World, login

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
SENT = TODAY - timedelta(days=20)


def _answered(world: World, action: str = "excision") -> Referral:
    sent = helpers.local(SENT)
    referral = helpers.sent_referral(world, sent)
    helpers.answer(
        referral,
        world.derm_x,
        diagnosis="melanoma_in_situ",
        action=action,
        answered_at=sent + timedelta(days=2),
    )
    referral.refresh_from_db()
    return referral


@pytest.fixture
def referral(world: World) -> Referral:
    return _answered(world)


def _errors(data: FollowUpData, referral: Referral) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        check(data, referral)
    return caught.value.message_dict


EXCISED: dict[str, Any] = {
    "outcome": "excised",
    "done_on": SENT + timedelta(days=5),
    "place": "clinic",
}


def test_the_rules_of_a_follow_up(world: World, referral: Referral) -> None:
    # Breslow thickness only for an invasive melanoma, and within 0.01–50 mm.
    for pad in ("melanoma_in_situ", "bcc", "benign_naevus", ""):
        data = FollowUpData(**EXCISED, pad_diagnosis=pad, breslow_mm=Decimal("1.2"))
        assert "breslow_mm" in _errors(data, referral)
    ok = check(
        FollowUpData(**EXCISED, pad_diagnosis="invasive_melanoma", breslow_mm=Decimal("1.2")),
        referral,
    )
    assert ok.pad_invasion == "invasive"  # follows from the diagnosis
    for bad in ("0", "-1", "50.01"):
        data = FollowUpData(**EXCISED, pad_diagnosis="invasive_melanoma", breslow_mm=Decimal(bad))
        assert "breslow_mm" in _errors(data, referral)
    # The date: not before the referral was sent, not in the future; required with a place.
    for day in (SENT - timedelta(days=1), TODAY + timedelta(days=1)):
        assert "done_on" in _errors(FollowUpData(**{**EXCISED, "done_on": day}), referral)
    assert check(FollowUpData(**{**EXCISED, "done_on": SENT}), referral).done_on == SENT
    assert check(FollowUpData(**{**EXCISED, "done_on": TODAY}), referral).done_on == TODAY
    missing = _errors(FollowUpData(outcome="seen"), referral)
    assert set(missing) == {"done_on", "place"}
    # PAD belongs to an excision; in situ / invasive only to malignant diagnoses.
    assert "pad_diagnosis" in _errors(
        FollowUpData(outcome="seen", done_on=TODAY, place="dermatology", pad_diagnosis="bcc"),
        referral,
    )
    assert "pad_invasion" in _errors(
        FollowUpData(**EXCISED, pad_diagnosis="benign_naevus", pad_invasion="in_situ"), referral
    )
    assert "pad_invasion" in _errors(
        FollowUpData(**EXCISED, pad_diagnosis="melanoma_in_situ", pad_invasion="invasive"),
        referral,
    )
    scc = check(FollowUpData(**EXCISED, pad_diagnosis="scc", pad_invasion="in_situ"), referral)
    assert scc.pad_invasion == "in_situ"
    assert "outcome" in _errors(FollowUpData(outcome="maybe"), referral)
    not_done = check(FollowUpData(outcome="not_done", place="clinic"), referral)
    assert not_done.place == ""


def test_register_then_change_with_an_audit_trail(world: World, referral: Referral) -> None:
    first = save_follow_up(
        referral=referral, data=FollowUpData(**EXCISED), by=Actor(user=world.gp_a)
    )
    assert first.version == 1
    assert first.pad_diagnosis == ""
    registered = AuditEvent.objects.get(action=AuditAction.OUTCOME_REGISTERED)
    assert registered.actor_role == Role.GP
    assert registered.organisation_id == world.clinic_a.pk
    assert registered.patient_id == referral.patient.personal_number  # type: ignore[union-attr]

    changed = save_follow_up(
        referral=referral,
        data=FollowUpData(
            **EXCISED,
            pad_diagnosis="invasive_melanoma",
            breslow_mm=Decimal("0.9"),
            pad_reference="PAD-123",
        ),
        version=1,
        by=Actor(user=world.derm_x),
    )
    assert changed.version == 2
    assert changed.changed_by == world.derm_x
    event = AuditEvent.objects.get(action=AuditAction.OUTCOME_CHANGED)
    assert event.actor_role == Role.DERMATOLOGIST
    assert event.organisation_id == world.unit_x.pk
    assert event.detail["changes"]["pad_diagnosis"] == ["", "invasive_melanoma"]
    assert event.detail["changes"]["breslow_mm"] == [None, "0.9"]
    assert event.detail["changes"]["pad_reference"] == ["…", "…"]  # free text stays out

    # Saving the same again changes nothing and logs nothing.
    again = save_follow_up(
        referral=referral,
        data=FollowUpData(
            **EXCISED,
            pad_diagnosis="invasive_melanoma",
            breslow_mm=Decimal("0.90"),
            pad_reference="PAD-123",
        ),
        version=2,
        by=Actor(user=world.gp_a),
    )
    assert again.version == 2
    assert AuditEvent.objects.filter(action=AuditAction.OUTCOME_CHANGED).count() == 1

    # Someone who started from version 1 cannot overwrite version 2 unnoticed.
    with pytest.raises(ValidationError, match="changed this follow-up"):
        save_follow_up(
            referral=referral,
            data=FollowUpData(outcome="not_done"),
            version=1,
            by=Actor(user=world.admin_a),
        )
    assert FollowUp.objects.get().outcome == "excised"
    assert FollowUp.objects.count() == 1


def test_center_admin_registers_in_the_clinics_name(world: World, referral: Referral) -> None:
    save_follow_up(referral=referral, data=FollowUpData(**EXCISED), by=Actor(user=world.admin_a))
    event = AuditEvent.objects.get(action=AuditAction.OUTCOME_REGISTERED)
    assert (event.actor_role, event.organisation_id) == (Role.CENTER_ADMIN, world.clinic_a.pk)


@pytest.mark.parametrize("outsider", ["gp_b", "admin_b", "derm_y", "region_admin"])
def test_outsiders_can_neither_register_nor_see(
    client: Client, world: World, referral: Referral, outsider: str
) -> None:
    person = getattr(world, outsider)
    with pytest.raises(PermissionDenied):
        save_follow_up(referral=referral, data=FollowUpData(**EXCISED), by=Actor(user=person))
    login(client, person)
    url = reverse("outcomes:follow_up", args=[referral.public_id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"outcome": "not_done"}).status_code == 404
    assert not FollowUp.objects.exists()


def test_no_follow_up_page_for_answers_without_excision_or_referral(
    client: Client, world: World
) -> None:
    referral = _answered(world, action="follow_up")
    login(client, world.gp_a)
    assert client.get(reverse("outcomes:follow_up", args=[referral.public_id])).status_code == 404
    detail = client.get(reverse("referrals:detail", args=[referral.public_id]))
    assert "Register what happened" not in detail.content.decode()


def _post(client: Client, referral: Referral, **data: object):
    return client.post(reverse("outcomes:follow_up", args=[referral.public_id]), data)


def test_the_form_on_its_page(client: Client, world: World, referral: Referral) -> None:
    login(client, world.gp_a)
    url = reverse("outcomes:follow_up", args=[referral.public_id])
    page = client.get(url)
    assert page.status_code == 200
    assert referral.patient.display_number in page.content.decode()  # type: ignore[union-attr]
    viewed = AuditEvent.objects.filter(action=AuditAction.REFERRAL_VIEWED).latest("id")
    assert viewed.detail["part"] == "follow_up"

    bad = _post(
        client,
        referral,
        outcome="excised",
        done_on=(TODAY + timedelta(days=3)).isoformat(),
        place="clinic",
        pad_diagnosis="bcc",
        breslow_mm="2.0",
    )
    assert bad.status_code == 422
    text = bad.content.decode()
    assert "The date cannot be in the future." in text
    assert "Breslow thickness is given only for an invasive melanoma." in text
    assert not FollowUp.objects.exists()

    good = _post(
        client,
        referral,
        outcome="excised",
        done_on=(SENT + timedelta(days=9)).isoformat(),
        place="dermatology",
        pad_diagnosis="invasive_melanoma",
        breslow_mm="1.25",
        pad_reference="=cmd",
    )
    assert good.status_code == 302
    assert good["Location"] == url
    follow_up = FollowUp.objects.get()
    assert (follow_up.breslow_mm, follow_up.pad_invasion) == (Decimal("1.25"), "invasive")

    # The form shows what is saved; a stale version is refused with a message.
    saved = client.get(url).content.decode()
    assert 'name="version" value="1"' in saved
    assert "Breslow 1.25 mm" in saved
    stale = _post(client, referral, outcome="not_done", version="0")
    assert stale.status_code == 422
    assert "changed this follow-up" in stale.content.decode()


def test_the_panel_on_the_referral_and_case_pages(
    client: Client, world: World, referral: Referral
) -> None:
    link = reverse("outcomes:follow_up", args=[referral.public_id])
    login(client, world.gp_a)
    detail = client.get(reverse("referrals:detail", args=[referral.public_id])).content.decode()
    assert link in detail
    assert "Register what happened" in detail
    helpers.follow_up(referral, world.gp_a, outcome="excised", done_on=date.today(), place="clinic")
    detail = client.get(reverse("referrals:detail", args=[referral.public_id])).content.decode()
    assert "PAD result not registered yet" in detail
    assert "Change the follow-up" in detail
    derm = Client()
    login(derm, world.derm_x)
    case = derm.get(reverse("review:case", args=[referral.public_id])).content.decode()
    assert link in case
    assert "Change the follow-up" in case
