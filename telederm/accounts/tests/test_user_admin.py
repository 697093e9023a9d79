"""The center administrator's work through the views: users, phones, deactivation, licences."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from telederm.accounts.models import Licence, Membership, Role, SmsDevice, User
from telederm.accounts.tests.factories import licensed_gp, member
from telederm.audit.models import Action, AuditEvent
from telederm.testing import World, login

pytestmark = pytest.mark.django_db


def new_person(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Nora",
        "last_name": "Nyberg",
        "email": "Nora.Nyberg@example.se",
        "hsa_id": "se2321000016-nora1",
        "title": "Distriktsläkare",
        "mobile": "070-174 06 60",
        "role": Role.GP,
    }
    data.update(overrides)
    return data


def person_of(user: User, **overrides: str) -> dict[str, str]:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "hsa_id": user.hsa_id,
        "title": user.title,
        "mobile": user.mobile,
    }
    data.update(overrides)
    return data


def new_mobile_for(user: User) -> tuple[str, str]:
    """A fictional number (PTS range 070-1740605…699) that the user does not have yet.

    The factories give out numbers from the same range, so pick one the user surely lacks.
    Returns the number as typed (Swedish style) and as stored (E.164).
    """
    last = "99" if user.mobile != "+46701740699" else "98"
    return f"070-174 06 {last}", f"+467017406{last}"


def link_path(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^/\s]+(/activate/[^\s]+/)", str(message.body))
    assert match, message.body
    return match.group(1)


def english(user: User) -> User:
    User.objects.filter(pk=user.pk).update(language="en")
    user.language = "en"
    return user


def in_english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def admin_a(client: Client, world: World) -> Client:
    return login(client, world.admin_a)


def org_url(world: World, name: str = "accounts:organisation") -> str:
    return reverse(name, args=[world.clinic_a.public_id])


def user_url(world: World, user: User, name: str = "accounts:user_edit") -> str:
    return reverse(name, args=[world.clinic_a.public_id, user.public_id])


def test_center_admin_creates_a_user_who_must_activate_the_account(
    admin_a: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_a.post(org_url(world, "accounts:user_new"), new_person())

    assert response.status_code == 302
    assert response["Location"] == org_url(world)
    user = User.objects.get(email="nora.nyberg@example.se")
    assert user.hsa_id == "SE2321000016-NORA1"
    assert user.mobile == "+46701740660"
    assert user.activated_at is None
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.role) == (world.clinic_a, Role.GP)
    assert membership.ended_at is None
    assert SmsDevice.objects.get(user=user, name="primary").number == "+46701740660"

    assert [m.to for m in mail.outbox] == [["nora.nyberg@example.se"]]
    path = link_path(mail.outbox[0])
    assert Client().get(path).status_code == 200
    event = AuditEvent.objects.get(action=Action.USER_CREATED)
    assert event.target_id == str(user.public_id)
    assert event.actor_id == world.admin_a.pk
    assert event.actor_role == Role.CENTER_ADMIN
    assert event.organisation_id == world.clinic_a.pk


def test_same_person_added_to_a_second_clinic_gets_a_second_membership_not_a_second_account(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    login(client, world.admin_b)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:user_new", args=[world.clinic_b.public_id]),
            new_person(
                email=world.gp_a.email.upper(),
                hsa_id=world.gp_a.hsa_id.lower(),
                first_name="Annat",
                role=Role.GP,
            ),
        )

    assert response.status_code == 302
    assert User.objects.filter(hsa_id=world.gp_a.hsa_id).count() == 1
    orgs = set(
        Membership.objects.filter(user=world.gp_a, ended_at__isnull=True).values_list(
            "organisation", flat=True
        )
    )
    assert orgs == {world.clinic_a.pk, world.clinic_b.pk}
    world.gp_a.refresh_from_db()
    assert world.gp_a.first_name == "Gustav"  # another clinic does not rename the person
    assert mail.outbox == []  # already activated: no new activation link
    assert AuditEvent.objects.filter(
        action=Action.MEMBERSHIP_ADDED,
        target_id=str(world.gp_a.public_id),
        organisation_id=world.clinic_b.pk,
    ).exists()
    assert not AuditEvent.objects.filter(action=Action.USER_CREATED).exists()


def test_person_not_yet_activated_added_to_a_second_clinic_keeps_one_account(
    admin_a: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        admin_a.post(org_url(world, "accounts:user_new"), new_person())
    admin_b = login(Client(), world.admin_b)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_b.post(
            reverse("accounts:user_new", args=[world.clinic_b.public_id]), new_person()
        )

    assert response.status_code == 302
    user = User.objects.get(hsa_id="SE2321000016-NORA1")
    assert set(user.memberships.values_list("organisation", flat=True)) == {
        world.clinic_a.pk,
        world.clinic_b.pk,
    }
    assert AuditEvent.objects.filter(action=Action.USER_CREATED).count() == 1
    # The second clinic sends a fresh activation link; the first one no longer works.
    assert len(mail.outbox) == 2
    assert Client().get(link_path(mail.outbox[0])).status_code == 410
    assert Client().get(link_path(mail.outbox[1])).status_code == 200


@pytest.mark.parametrize("field", ["email", "hsa_id"])
def test_email_or_hsa_id_of_another_person_is_refused(
    admin_a: Client, world: World, field: str
) -> None:
    # gp_b's e-mail with a new HSA-ID, or gp_b's HSA-ID with a new e-mail.
    response = admin_a.post(
        org_url(world, "accounts:user_new"), new_person(**{field: getattr(world.gp_b, field)})
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert User.objects.count() == 7
    assert not Membership.objects.filter(user=world.gp_b, organisation=world.clinic_a).exists()


def test_center_admin_edits_personal_fields(admin_a: Client, world: World) -> None:
    response = admin_a.post(
        user_url(world, world.gp_a),
        person_of(world.gp_a, first_name="Gösta", last_name="Berg", title="Specialistläkare"),
    )

    assert response.status_code == 302
    world.gp_a.refresh_from_db()
    assert (world.gp_a.first_name, world.gp_a.last_name) == ("Gösta", "Berg")
    assert world.gp_a.title == "Specialistläkare"
    event = AuditEvent.objects.get(action=Action.USER_CHANGED)
    assert set(event.detail["fields"]) == {"first_name", "last_name", "title"}
    assert not AuditEvent.objects.filter(action=Action.MOBILE_CHANGED).exists()


def test_changing_the_mobile_needs_the_identity_check(admin_a: Client, world: World) -> None:
    old = world.gp_a.mobile
    typed, _stored = new_mobile_for(world.gp_a)
    response = admin_a.post(user_url(world, world.gp_a), person_of(world.gp_a, mobile=typed))

    assert response.status_code == 200
    assert "identity_checked" in response.context["form"].errors
    world.gp_a.refresh_from_db()
    assert world.gp_a.mobile == old
    assert SmsDevice.objects.get(user=world.gp_a, name="primary").number == old


def test_new_mobile_is_saved_in_e164_and_ends_the_users_sessions(
    admin_a: Client, world: World
) -> None:
    gp_browser = login(Client(), world.gp_a)
    assert gp_browser.get(reverse("web:start")).status_code == 200
    typed, stored = new_mobile_for(world.gp_a)

    response = admin_a.post(
        user_url(world, world.gp_a),
        person_of(world.gp_a, mobile=typed, identity_checked="on"),
    )

    assert response.status_code == 302
    world.gp_a.refresh_from_db()
    assert world.gp_a.mobile == stored
    assert SmsDevice.objects.get(user=world.gp_a, name="primary").number == stored
    event = AuditEvent.objects.get(action=Action.MOBILE_CHANGED)
    assert event.target_id == str(world.gp_a.public_id)
    assert event.detail["identity_checked"] is True
    next_request = gp_browser.get(reverse("web:start"))
    assert next_request.status_code == 302
    assert next_request["Location"].startswith(reverse("accounts:login"))
    # The administrator's own session is untouched.
    assert admin_a.get(org_url(world)).status_code == 200


def test_deactivation_ends_the_membership_the_account_and_the_session(
    admin_a: Client, world: World
) -> None:
    gp_browser = login(Client(), world.gp_a)
    assert admin_a.get(user_url(world, world.gp_a, "accounts:user_deactivate")).status_code == 200

    response = admin_a.post(user_url(world, world.gp_a, "accounts:user_deactivate"))

    assert response.status_code == 302
    membership = Membership.objects.get(user=world.gp_a)
    assert membership.ended_at is not None
    world.gp_a.refresh_from_db()
    assert not world.gp_a.is_active
    assert AuditEvent.objects.get(action=Action.USER_DEACTIVATED).detail["account_inactive"] is True
    next_request = gp_browser.get(reverse("web:start"))
    assert next_request.status_code == 302
    assert next_request["Location"].startswith(reverse("accounts:login"))


def test_deactivation_keeps_the_account_when_another_membership_remains(
    admin_a: Client, world: World
) -> None:
    Membership.objects.create(
        user=world.gp_a, organisation=world.clinic_b, role=Role.GP, organisation_kind="clinic"
    )
    gp_browser = login(Client(), world.gp_a)

    admin_a.post(user_url(world, world.gp_a, "accounts:user_deactivate"))

    world.gp_a.refresh_from_db()
    assert world.gp_a.is_active
    assert Membership.objects.get(user=world.gp_a, organisation=world.clinic_a).ended_at is not None
    assert Membership.objects.get(user=world.gp_a, organisation=world.clinic_b).ended_at is None
    assert gp_browser.get(reverse("web:start")).status_code == 302


def test_center_admin_cannot_edit_a_user_who_also_works_in_another_clinic(
    admin_a: Client, world: World
) -> None:
    Membership.objects.create(
        user=world.gp_a, organisation=world.clinic_b, role=Role.GP, organisation_kind="clinic"
    )
    page = admin_a.get(user_url(world, world.gp_a))
    assert page.status_code == 200
    assert page.context["can_edit"] is False
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert 'name="first_name"' in page.content.decode()
    assert "disabled" in page.content.decode()

    old_mobile = world.gp_a.mobile
    typed, _stored = new_mobile_for(world.gp_a)
    response = admin_a.post(
        user_url(world, world.gp_a),
        person_of(world.gp_a, first_name="Ändrad", mobile=typed, identity_checked="on"),
    )

    assert response.status_code == 200
    world.gp_a.refresh_from_db()
    assert world.gp_a.first_name == "Gustav"
    assert world.gp_a.mobile == old_mobile
    assert not AuditEvent.objects.filter(
        action__in=[Action.USER_CHANGED, Action.MOBILE_CHANGED]
    ).exists()
    # The region administrator manages both clinics and may edit.
    region_page = login(Client(), world.region_admin).get(user_url(world, world.gp_a))
    assert region_page.context["can_edit"] is True


def test_center_admin_registers_a_licence(admin_a: Client, world: World) -> None:
    gp = member(world.clinic_a, Role.GP)
    passed_on = timezone.localdate() - timedelta(days=3)

    response = admin_a.post(
        user_url(world, gp, "accounts:licence_add"),
        {"passed_on": passed_on.isoformat(), "issuer": "Regional course", "reference": "K-17"},
    )

    assert response.status_code == 302
    assert response["Location"] == user_url(world, gp)
    licence = Licence.objects.get(user=gp)
    assert (licence.passed_on, licence.reference) == (passed_on, "K-17")
    assert licence.registered_by == world.admin_a
    assert gp.valid_licence() == licence
    assert AuditEvent.objects.filter(
        action=Action.LICENCE_REGISTERED, target_id=str(gp.public_id)
    ).exists()


def test_licence_with_a_future_date_is_refused(admin_a: Client, world: World) -> None:
    english(world.admin_a)
    gp = member(world.clinic_a, Role.GP)
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = admin_a.post(
        user_url(world, gp, "accounts:licence_add"),
        {"passed_on": tomorrow.isoformat(), "issuer": "Regional course"},
        follow=True,
    )

    assert response.status_code == 200
    assert not Licence.objects.filter(user=gp).exists()
    assert "cannot be in the future" in response.content.decode()


def test_clinic_page_warns_when_fewer_than_two_licensed_gps(admin_a: Client, world: World) -> None:
    english(world.admin_a)
    member(world.clinic_a, Role.GP)  # a GP without a licence does not count

    page = admin_a.get(org_url(world))

    assert page.context["licensed_gps"] == 1
    assert "Too few licensed doctors." in page.content.decode()
    assert "at least 2 are required" in page.content.decode()


def test_clinic_page_has_no_warning_with_two_licensed_gps(admin_a: Client, world: World) -> None:
    english(world.admin_a)
    licensed_gp(world.clinic_a)

    page = admin_a.get(org_url(world))

    assert page.context["licensed_gps"] == 2
    assert "Too few licensed doctors." not in page.content.decode()


def test_resending_activation_supersedes_the_old_link(
    admin_a: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        admin_a.post(org_url(world, "accounts:user_new"), new_person())
    user = User.objects.get(email="nora.nyberg@example.se")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_a.post(user_url(world, user, "accounts:user_resend"))

    assert response.status_code == 302
    assert len(mail.outbox) == 2
    old, new = link_path(mail.outbox[0]), link_path(mail.outbox[1])
    assert old != new
    visitor = in_english(Client())
    old_page = visitor.get(old)
    assert old_page.status_code == 410
    assert old_page.context["state"] == "used"
    assert "The link has already been used" in old_page.content.decode()
    assert visitor.get(new).status_code == 200
    assert AuditEvent.objects.filter(
        action=Action.ACTIVATION_SENT, target_id=str(user.public_id), detail__resend=True
    ).exists()
