"""The permission matrix: every view of accounts, web and audit, for every persona.

Rules: anonymous visitors are sent to the login page except on the public views; a center admin
manages only their own clinic (another clinic's pages are 404, "no access" looks like "does not
exist"); a region admin manages every unit of their region; GPs and dermatologists get 403 on
the admin pages; only region admins reach the region pages and the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from telederm.accounts.models import (
    ClinicApplication,
    Licence,
    Membership,
    OneTimeLink,
    Organisation,
    Role,
    User,
)
from telederm.accounts.services.links import issue_link, link_url
from telederm.accounts.services.onboarding import ClinicData, submit_application
from telederm.accounts.services.users import PersonData
from telederm.accounts.tests.factories import RegionFactory, member
from telederm.audit.services import Actor
from telederm.integrations.models import ExportJob
from telederm.referrals.models import Referral, ReferralEvent
from telederm.testing import World, login

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
PERSONAS = ("region_admin", "admin_a", "admin_b", "gp_a", "gp_b", "derm_x", "derm_y")
CENTER_ADMINS = {"clinic_a": "admin_a", "clinic_b": "admin_b"}
LOGIN = "login"  # expected: redirect to the login page, with ?next= pointing back

# The namespaces whose URLs this matrix covers. Every namespace of the URL configuration must be
# listed in one of the two sets (test_every_url_pattern_is_in_the_matrix), so that a new app is
# noticed. The referral and image views (under /referrals/) need a matrix of their own; until
# then only the anonymous check (which walks every pattern) covers them.
MATRIX_NAMESPACES = {"accounts", "web", "audit", "integrations", "training", "outcomes"}
# Referrals and review have their own outsider tests next to them
# (referrals/tests/test_referral_views.py, review/tests/test_review.py, messaging/tests).
NOT_IN_THIS_MATRIX = {"referrals", "review", "messaging"}
# The FHIR API authenticates system clients by bearer token, not by login: an anonymous caller
# gets 401 with an OperationOutcome, never the login page (test_fhir_api_answers_anonymous_...
# below). Its matrix of routes × clients is telederm/fhir/tests/test_permissions.py.
TOKEN_NAMESPACES = {"fhir"}


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...] = ()  # world attribute names, fixture extras or literals
    method: str = "get"
    data: dict[str, str] = field(default_factory=dict)
    expect: dict[str, int | str] = field(default_factory=dict)


def public(status: int) -> dict[str, int | str]:
    return {ANONYMOUS: status}


def own_account(status: int) -> dict[str, int | str]:
    return {ANONYMOUS: LOGIN, **dict.fromkeys(PERSONAS, status)}


def region_only(status: int = 200) -> dict[str, int | str]:
    return {ANONYMOUS: LOGIN, **dict.fromkeys(PERSONAS, 403), "region_admin": status}


def org_page(org: str, status: int = 200) -> dict[str, int | str]:
    """An organisation's admin page: its own center admin and the region admin may enter."""
    expect: dict[str, int | str] = {ANONYMOUS: LOGIN, **dict.fromkeys(PERSONAS, 403)}
    expect.update({"region_admin": status, "admin_a": 404, "admin_b": 404})
    if org in CENTER_ADMINS:
        expect[CENTER_ADMINS[org]] = status
    return expect


LICENCE_DATA = {"passed_on": "2025-01-15", "issuer": "Regional course", "reference": "R-1"}


def gp_only(status: int = 200, *, owner: str = "") -> dict[str, int | str]:
    """The licence exam: every GP (owner only, when the page is one GP's attempt)."""
    expect: dict[str, int | str] = {ANONYMOUS: LOGIN, **dict.fromkeys(PERSONAS, 403)}
    expect.update({"gp_a": status, "gp_b": status})
    if owner:
        expect.update(dict.fromkeys(("gp_a", "gp_b"), 404))
        expect[owner] = status
    return expect


CLINIC_A_ITEM = ("clinic_a", "equipment_a")

MATRIX: list[Case] = [
    # Public views.
    Case("accounts:login", expect=public(200)),
    Case("accounts:code", expect=public(302)),  # no password step yet: back to login
    Case("accounts:resend_code", method="post", expect=public(302)),
    Case("accounts:logout", method="post", expect=public(302)),
    Case("accounts:activate", ("activation_token",), expect=public(200)),
    Case("accounts:reset_request", expect=public(200)),
    Case("accounts:reset_confirm", ("reset_token",), expect=public(200)),
    Case("accounts:apply", expect=public(200)),
    Case("accounts:apply_thanks", expect=public(200)),
    Case("web:about", expect=public(200)),
    Case("web:healthz", expect=public(200)),
    Case("web:set_language", method="post", data={"language": "en"}, expect=public(302)),
    # Every signed-in user: their own start page and account.
    Case("web:start", expect=own_account(200)),
    Case("accounts:profile", expect=own_account(200)),
    Case("accounts:totp_enrol", expect=own_account(200)),
    Case("accounts:totp_remove", method="post", expect=own_account(302)),
    Case("accounts:mobile_change", expect=own_account(200)),
    Case("accounts:mobile_confirm", expect=own_account(302)),  # nothing pending: back
    Case("accounts:forget_device", method="post", expect=own_account(302)),
    # Organisation and user administration.
    Case("accounts:organisation", ("clinic_a",), expect=org_page("clinic_a")),
    Case("accounts:organisation", ("clinic_b",), expect=org_page("clinic_b")),
    Case("accounts:organisation", ("unit_x",), expect=org_page("unit_x")),
    Case("accounts:organisation", ("region",), expect=org_page("region")),
    Case("accounts:user_new", ("clinic_a",), expect=org_page("clinic_a")),
    Case("accounts:user_new", ("unit_x",), expect=org_page("unit_x")),
    Case("accounts:user_edit", ("clinic_a", "gp_a"), expect=org_page("clinic_a")),
    Case("accounts:user_edit", ("clinic_b", "gp_b"), expect=org_page("clinic_b")),
    Case("accounts:user_edit", ("unit_x", "derm_x"), expect=org_page("unit_x")),
    Case(
        "accounts:licence_add",
        ("clinic_a", "gp_a"),
        method="post",
        data=LICENCE_DATA,
        expect=org_page("clinic_a", 302),
    ),
    Case("accounts:user_deactivate", ("clinic_a", "gp_a"), expect=org_page("clinic_a")),
    Case(
        "accounts:user_resend",
        ("clinic_a", "gp_a"),
        method="post",
        expect=org_page("clinic_a", 302),
    ),
    # Region administration and the audit log.
    Case("accounts:unit_edit", ("clinic_a",), expect=region_only()),
    Case("accounts:unit_edit", ("unit_x",), expect=region_only()),
    Case("accounts:unit_edit", ("region",), expect=region_only(404)),
    Case("accounts:region", expect=region_only()),
    Case("accounts:unit_new", ("clinic",), expect=region_only()),
    Case("accounts:unit_new", ("review_unit",), expect=region_only()),
    Case("accounts:applications", expect=region_only()),
    Case("accounts:application", ("application",), expect=region_only()),
    Case("audit:search", expect=region_only()),
    Case("audit:export", expect=region_only()),
    Case("audit:patient_extract", expect=region_only()),
    Case("integrations:exports", expect=region_only()),
    Case("integrations:retry", ("export_job",), method="post", expect=region_only(302)),
    Case("integrations:retry_all", method="post", expect=region_only(302)),
    # The licence exam (GPs), the question bank (region admins), equipment (clinic admins).
    Case("training:exam", expect=gp_only()),
    Case("training:exam_start", method="post", expect=gp_only(302)),
    Case("training:attempt", ("attempt_a",), expect=gp_only(owner="gp_a")),
    Case(
        "training:attempt_submit", ("attempt_a",), method="post", expect=gp_only(302, owner="gp_a")
    ),
    Case("training:attempt_image", ("attempt_a", "image_item_a"), expect=gp_only(owner="gp_a")),
    Case("training:questions", expect=region_only()),
    Case("training:question_new", expect=region_only()),
    Case("training:question_edit", ("question",), expect=region_only()),
    Case("training:question_retire", ("question",), method="post", expect=region_only(302)),
    Case("training:question_image", ("image_question",), expect=region_only()),
    Case("training:equipment", ("clinic_a",), expect=org_page("clinic_a")),
    Case("training:equipment", ("clinic_b",), expect=org_page("clinic_b")),
    Case("training:equipment", ("unit_x",), expect=org_page("unit_x", 404)),
    Case("training:equipment_new", ("clinic_a",), expect=org_page("clinic_a")),
    Case("training:equipment_edit", CLINIC_A_ITEM, expect=org_page("clinic_a")),
    Case("training:equipment_test", CLINIC_A_ITEM, expect=org_page("clinic_a")),
    Case(
        "training:equipment_test_upload",
        CLINIC_A_ITEM,
        method="post",
        expect=org_page("clinic_a", 302),
    ),
    Case(
        "training:equipment_test_photo",
        (*CLINIC_A_ITEM, "equipment_test_a"),
        expect=org_page("clinic_a"),
    ),
    # Follow-up and statistics: every role has statistics; the follow-up of an answer from unit
    # X to clinic A belongs to both; a unit's forecast to its dermatologists and the region.
    Case("outcomes:stats", expect=own_account(200)),
    Case("outcomes:export", ("turnaround",), expect=own_account(200)),
    Case("outcomes:awaiting", expect={**own_account(200), "region_admin": 403}),
    Case(
        "outcomes:unit",
        ("unit_x",),
        expect={**region_only(), "derm_x": 200, "derm_y": 404},
    ),
    Case(
        "outcomes:follow_up",
        ("follow_up_referral",),
        expect={**own_account(404), "gp_a": 200, "admin_a": 200, "derm_x": 200},
    ),
]

POST_ONLY = {case.name for case in MATRIX if case.method == "post"} - {"web:set_language"}


def _token(link: OneTimeLink) -> str:
    return link_url(link).rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def extras(world: World, settings: Any, tmp_path: Any) -> dict[str, Any]:
    """URL arguments that are not personas or units: a pending application, valid links, and
    the training objects (an exam attempt of gp_a, questions, clinic A's equipment and test)."""
    from telederm.outcomes.tests.helpers import outcomes_extras
    from telederm.training.tests.helpers import training_extras

    settings.TELEDERM_EXAM_QUESTIONS = 5
    settings.MEDIA_ROOT = str(tmp_path / "media")  # the training files stay out of the shared one
    application = submit_application(
        region=world.region,
        clinic=ClinicData(name="Vårdcentral Ny", kombikakod="NY123", hsa_id="SE2321000016-NY01"),
        head_name="Hedda Chef",
        head_email="hedda@example.se",
        head_hsa_id="SE2321000016-HEAD1",
        admin=PersonData(
            first_name="Ada",
            last_name="Ny",
            email="ada.ny@example.se",
            hsa_id="SE2321000016-ADA1",
            mobile="0701740690",
        ),
        by=Actor.system(),
    )
    return {
        "application": application.public_id,
        "export_job": _failed_export(world).pk,
        "activation_token": _token(
            issue_link(user=world.gp_b, purpose=OneTimeLink.Purpose.ACTIVATION)
        ),
        "reset_token": _token(
            issue_link(user=world.gp_b, purpose=OneTimeLink.Purpose.PASSWORD_RESET)
        ),
        **training_extras(world),
        **outcomes_extras(world),
    }


def _failed_export(world: World) -> ExportJob:
    """A failed archive export of a (draft) referral from clinic A: enough for the access rule."""
    referral = Referral.objects.create(clinic=world.clinic_a, author=world.gp_a)
    event = ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.SENT)
    return ExportJob.objects.create(
        event=event, target=ExportJob.Target.DICOM, status=ExportJob.Status.FAILED, attempts=8
    )


def _url(world: World, extras: dict[str, Any], case: Case) -> str:
    args = []
    for token in case.args:
        if token in extras:
            args.append(extras[token])
        elif isinstance(getattr(world, token, None), Organisation | User):
            args.append(getattr(world, token).public_id)
        else:
            args.append(token)
    return reverse(case.name, args=args)


def _call(client: Client, case: Case, url: str):
    return getattr(client, case.method)(url, case.data)


def _is_login_redirect(response, url: str) -> bool:
    location = response.get("Location", "")
    return response.status_code == 302 and location.startswith(reverse("accounts:login") + "?next=")


MATRIX_PARAMS = [
    pytest.param(case, persona, expected, id=f"{case.name}{list(case.args)}-{persona}")
    for case in MATRIX
    for persona, expected in case.expect.items()
]


@pytest.mark.parametrize(("case", "persona", "expected"), MATRIX_PARAMS)
def test_permission_matrix(
    client: Client,
    world: World,
    extras: dict[str, Any],
    case: Case,
    persona: str,
    expected: int | str,
) -> None:
    if persona != ANONYMOUS:
        login(client, getattr(world, persona))
    url = _url(world, extras, case)
    response = _call(client, case, url)
    if expected == LOGIN:
        assert _is_login_redirect(response, url), (response.status_code, response.get("Location"))
        assert url in response["Location"]
    else:
        assert response.status_code == expected, response.get("Location")
        # A public view answers by itself; the login middleware did not step in.
        assert not _is_login_redirect(response, url)


def _url_names(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            found.extend(_url_names(pattern, namespace))
        else:
            found.append(
                (f"{prefix}{pattern.name or '<unnamed ' + str(pattern.pattern) + '>'}", pattern)
            )
    return found


def test_every_url_pattern_is_in_the_matrix() -> None:
    names = [name for name, _pattern in _url_names(get_resolver())]
    namespaces = {name.split(":", 1)[0] if ":" in name else "" for name in names}
    assert namespaces <= MATRIX_NAMESPACES | NOT_IN_THIS_MATRIX | TOKEN_NAMESPACES, (
        "a new app's URLs need a permission matrix",
        namespaces - MATRIX_NAMESPACES - NOT_IN_THIS_MATRIX - TOKEN_NAMESPACES,
    )
    in_scope = {name for name in names if name.split(":", 1)[0] in MATRIX_NAMESPACES}
    covered = {case.name for case in MATRIX}
    assert in_scope - covered == set(), "URL patterns missing from the permission matrix"
    assert covered - in_scope == set(), "the matrix lists URL names that no longer exist"


PUBLIC_NAMES = {case.name for case in MATRIX if ANONYMOUS in case.expect and len(case.expect) == 1}


def _dummy_kwargs(pattern: URLPattern) -> dict[str, Any]:
    converters = getattr(pattern.pattern, "converters", {})
    kwargs: dict[str, Any] = {}
    for key, converter in converters.items():
        kind = type(converter).__name__
        kwargs[key] = (
            uuid.uuid4() if kind == "UUIDConverter" else 1 if kind == "IntConverter" else "x"
        )
    return kwargs


def test_every_view_except_the_public_ones_sends_anonymous_visitors_to_login(
    client: Client,
) -> None:
    """Derived from the URL resolver, so it also covers views added after this file was written."""
    checked = set()
    for name, pattern in _url_names(get_resolver()):
        if name in PUBLIC_NAMES or name.split(":", 1)[0] in TOKEN_NAMESPACES:
            continue
        url = reverse(name, kwargs=_dummy_kwargs(pattern))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert _is_login_redirect(response, url), (name, method, response.status_code)
        checked.add(name)
    assert checked >= {case.name for case in MATRIX} - PUBLIC_NAMES


def test_fhir_api_answers_anonymous_callers_with_401_not_a_login_page(client: Client) -> None:
    """Every route of the token-authenticated API, from the resolver: no login redirect, no HTML.

    Only the CapabilityStatement is public; a method a route does not serve is 405.
    """
    checked = set()
    for name, pattern in _url_names(get_resolver()):
        if name.split(":", 1)[0] not in TOKEN_NAMESPACES:
            continue
        kwargs = _dummy_kwargs(pattern)
        kwargs.update(dict.fromkeys(pattern.pattern.regex.groupindex, "x") if not kwargs else {})
        url = reverse(name, kwargs=kwargs)
        statuses = set()
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response["Content-Type"].startswith("application/fhir+json"), (name, method)
            statuses.add(response.status_code)
        if name == "fhir:metadata":
            assert statuses == {200, 405}
        else:
            assert 401 in statuses, (name, statuses)
            assert statuses <= {401, 405}, (name, statuses)
        checked.add(name)
    assert "fhir:metadata" in checked
    assert "fhir:service_requests" in checked


@pytest.mark.parametrize("name", sorted(POST_ONLY))
def test_post_only_views_refuse_get(
    client: Client, world: World, extras: dict[str, Any], name: str
) -> None:
    case = next(case for case in MATRIX if case.name == name)
    login(client, world.region_admin)
    assert client.get(_url(world, extras, case)).status_code == 405


@pytest.mark.parametrize(
    ("persona", "org", "target"),
    [
        ("admin_a", "clinic_a", "gp_b"),
        ("admin_a", "clinic_a", "derm_x"),
        ("region_admin", "clinic_a", "gp_b"),
        ("region_admin", "unit_x", "derm_y"),
    ],
)
def test_user_page_of_a_user_who_is_not_a_member_of_the_organisation_is_404(
    client: Client, world: World, persona: str, org: str, target: str
) -> None:
    login(client, getattr(world, persona))
    target_user: User = getattr(world, target)
    args = [getattr(world, org).public_id, target_user.public_id]
    assert client.get(reverse("accounts:user_edit", args=args)).status_code == 404
    assert client.get(reverse("accounts:user_deactivate", args=args)).status_code == 404
    assert client.post(reverse("accounts:user_deactivate", args=args)).status_code == 404
    assert client.post(reverse("accounts:licence_add", args=args), LICENCE_DATA).status_code == 404
    assert client.post(reverse("accounts:user_resend", args=args)).status_code == 404
    assert Membership.objects.filter(user=target_user, ended_at__isnull=True).exists()
    assert not Licence.objects.filter(user=target_user, reference="R-1").exists()


def test_center_admin_of_other_clinic_cannot_change_anything_by_post(
    client: Client, world: World
) -> None:
    login(client, world.admin_b)
    args = [world.clinic_a.public_id, world.gp_a.public_id]
    person = {
        "first_name": "Hacked",
        "last_name": "Name",
        "email": world.gp_a.email,
        "hsa_id": world.gp_a.hsa_id,
        "mobile": "0701740699",
        "identity_checked": "on",
    }
    assert client.post(reverse("accounts:user_edit", args=args), person).status_code == 404
    assert client.post(reverse("accounts:user_deactivate", args=args)).status_code == 404
    new_user = {**person, "email": "new@example.se", "hsa_id": "SE2321000016-NEW1", "role": "gp"}
    assert (
        client.post(
            reverse("accounts:user_new", args=[world.clinic_a.public_id]), new_user
        ).status_code
        == 404
    )
    world.gp_a.refresh_from_db()
    assert world.gp_a.first_name == "Gustav"
    assert world.gp_a.is_active
    assert world.gp_a.memberships.get().ended_at is None
    assert not User.objects.filter(email="new@example.se").exists()


def test_gp_cannot_create_users_in_their_own_clinic(client: Client, world: World) -> None:
    login(client, world.gp_a)
    response = client.post(
        reverse("accounts:user_new", args=[world.clinic_a.public_id]),
        {
            "first_name": "Ny",
            "last_name": "Person",
            "email": "ny@example.se",
            "hsa_id": "SE2321000016-NY99",
            "mobile": "0701740698",
            "role": Role.CENTER_ADMIN,
        },
    )
    assert response.status_code == 403
    assert not User.objects.filter(email="ny@example.se").exists()


def test_center_admin_whose_role_has_ended_loses_the_admin_pages(
    client: Client, world: World
) -> None:
    Membership.objects.filter(user=world.admin_a).update(ended_at=timezone.now())
    login(client, world.admin_a)
    assert (
        client.get(reverse("accounts:organisation", args=[world.clinic_a.public_id])).status_code
        == 403
    )


def test_region_admin_of_another_region_gets_404_on_this_regions_units(
    client: Client, world: World, extras: dict[str, Any]
) -> None:
    other_admin = member(RegionFactory.create(name="Region Annan"), Role.REGION_ADMIN)
    login(client, other_admin)
    for org in (world.clinic_a, world.unit_x, world.region):
        assert client.get(reverse("accounts:organisation", args=[org.public_id])).status_code == 404
    url = reverse("accounts:user_edit", args=[world.clinic_a.public_id, world.gp_a.public_id])
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("accounts:unit_edit", args=[world.clinic_a.public_id])).status_code
        == 404
    )
    application_url = reverse("accounts:application", args=[extras["application"]])
    assert client.get(application_url).status_code == 404
    assert client.post(application_url, {"decision": "approve"}).status_code == 404
    assert ClinicApplication.objects.get().status == ClinicApplication.Status.PENDING
    assert client.get(reverse("accounts:region")).status_code == 200
