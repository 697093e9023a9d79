"""Language choice, security headers, production-mode system checks and the bootstrap commands."""

from __future__ import annotations

import importlib
import os
import re
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import LazySettings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from telederm.accounts.models import (
    ClinicApplication,
    Membership,
    OneTimeLink,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from telederm.audit.models import Action, AuditEvent
from telederm.testing import World, login

PROJECT_ROOT = Path(__file__).resolve().parents[3]
HTML_LANG = re.compile(r'<html lang="(?P<lang>[a-z-]+)">')


def page_language(response) -> str:
    match = HTML_LANG.search(response.content.decode())
    assert match, response.content.decode()[:300]
    return match["lang"]


# --- language ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_swedish_is_the_default_whatever_the_browser_asks_for(client: Client) -> None:
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response.status_code == 200
    assert page_language(response) == "sv"
    assert response["Content-Language"] == "sv"


@pytest.mark.django_db
def test_choosing_english_sets_a_cookie_that_later_pages_follow(client: Client) -> None:
    response = client.post(
        reverse("web:set_language"), {"language": "en", "next": reverse("accounts:login")}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    cookie = response.cookies["telederm_language"]
    assert cookie.value == "en"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    page = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="sv-SE,sv")
    assert page_language(page) == "en"
    assert response.cookies["telederm_language"]["max-age"]


@pytest.mark.django_db
def test_switching_back_to_swedish_replaces_the_cookie(client: Client) -> None:
    client.post(reverse("web:set_language"), {"language": "en"})
    client.post(reverse("web:set_language"), {"language": "sv"})

    assert page_language(client.get(reverse("accounts:login"))) == "sv"


@pytest.mark.django_db
def test_unknown_language_is_ignored(client: Client) -> None:
    response = client.post(reverse("web:set_language"), {"language": "de"})

    assert response.status_code == 302
    assert "telederm_language" not in response.cookies
    page = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="de")
    assert page_language(page) == "sv"


@pytest.mark.django_db
def test_language_switch_never_redirects_to_another_site(client: Client) -> None:
    response = client.post(
        reverse("web:set_language"), {"language": "en", "next": "https://evil.example/phish"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logged_in_users_saved_language_wins_over_the_cookie(client: Client, world: World) -> None:
    User.objects.filter(pk=world.gp_a.pk).update(language="en")
    login(client, world.gp_a)
    client.cookies["telederm_language"] = "sv"

    assert page_language(client.get(reverse("web:start"))) == "en"


def test_logged_in_user_with_swedish_saved_gets_swedish_despite_an_english_cookie(
    client: Client, world: World
) -> None:
    login(client, world.gp_a)
    client.cookies["telederm_language"] = "en"

    assert page_language(client.get(reverse("web:start"))) == "sv"


def test_logged_in_user_choosing_english_saves_it_on_the_profile(
    client: Client, world: World
) -> None:
    login(client, world.gp_a)
    client.post(reverse("web:set_language"), {"language": "en", "next": reverse("web:start")})

    world.gp_a.refresh_from_db()
    assert world.gp_a.language == "en"
    fresh = login(Client(), world.gp_a)
    assert page_language(fresh.get(reverse("web:start"))) == "en"


# --- security headers -------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_have_a_strict_content_security_policy_and_refuse_framing(client: Client) -> None:
    response = client.get(reverse("accounts:login"))

    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_pages_contain_no_inline_script_or_style_the_policy_would_block(client: Client) -> None:
    html = client.get(reverse("accounts:login")).content.decode()

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "expected the htmx script tag"
    assert all(" src=" in tag for tag in scripts)
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_logged_in_pages_are_never_cached(client: Client, world: World) -> None:
    login(client, world.gp_a)
    response = client.get(reverse("web:start"))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


# --- production mode --------------------------------------------------------------------------


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own manage.py with fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    """A production configuration; the database URL points where nothing listens."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TELEDERM_", "DJANGO_", "DATABASE_"))
    }
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "telederm.settings",
        "TELEDERM_MODE": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(45),
        # Port 1 on loopback refuses connections: a check that touched the database would fail.
        "DATABASE_URL": "postgres://telederm:secret@127.0.0.1:1/telederm",
        "TELEDERM_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "TELEDERM_SMS_BACKEND": "telederm.lib.sms.HttpSmsBackend",
        "TELEDERM_SMS_HTTP_URL": "https://sms.example.se/send",
        "TELEDERM_BASE_URL": "https://telederm.example.se",
        "DJANGO_ALLOWED_HOSTS": "telederm.example.se",
        "TELEDERM_DATA_DIR": str(tmp_path / "data"),
    }


def test_production_configuration_passes_the_deploy_check(
    production_env: dict[str, str],
) -> None:
    assert len(production_env["DJANGO_SECRET_KEY"]) == 60
    assert (PROJECT_ROOT / "manage.py").is_file()

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_does_not_connect_to_the_database(production_env: dict[str, str]) -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr

    # The same URL really is unreachable: a command that needs the database fails.
    needs_database = run_manage("showmigrations", "audit", env=production_env)
    assert needs_database.returncode != 0
    assert "connection" in needs_database.stderr.lower()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param(
            {
                "TELEDERM_EMAIL_BACKEND": "telederm.lib.mail.ConsoleFileEmailBackend",
                "TELEDERM_SMS_BACKEND": "telederm.lib.sms.ConsoleFileSmsBackend",
            },
            {"telederm.E002", "telederm.E003"},
            id="demo-email-and-sms",
        ),
        pytest.param(
            {"TELEDERM_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
            {"telederm.E002"},
            id="console-email",
        ),
        pytest.param({"DJANGO_SECRET_KEY": "too-short"}, {"telederm.E001"}, id="short-key"),
        pytest.param(
            {"TELEDERM_BASE_URL": "http://telederm.example.se"}, {"telederm.E005"}, id="http"
        ),
        pytest.param({"DATABASE_URL": "sqlite:///telederm.db"}, {"telederm.E006"}, id="sqlite"),
    ],
)
def test_production_mode_refuses_demo_only_settings(
    production_env: dict[str, str], overrides: dict[str, str], expected: set[str]
) -> None:
    env = {**production_env, **overrides}
    if "DATABASE_URL" in overrides:
        env["DATABASE_URL"] = f"sqlite:///{Path(env['TELEDERM_DATA_DIR']) / 'telederm.db'}"

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    reported = set(re.findall(r"telederm\.E\d{3}", result.stderr))
    assert reported == expected, result.stderr


def test_demo_backends_pass_the_check_in_demo_mode(
    production_env: dict[str, str],
) -> None:
    env = {
        **production_env,
        "TELEDERM_MODE": "demo",
        "TELEDERM_EMAIL_BACKEND": "telederm.lib.mail.ConsoleFileEmailBackend",
        "TELEDERM_SMS_BACKEND": "telederm.lib.sms.ConsoleFileSmsBackend",
    }
    result = run_manage("check", env=env)

    assert result.returncode == 0, result.stderr
    assert "telederm.E" not in result.stderr


# --- seed_demo --------------------------------------------------------------------------------


@pytest.fixture
def seed_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The seed_demo module as a fresh `manage.py seed_demo` process sees it.

    Reloading proves that the command keeps no state between runs in one process.
    """
    module = importlib.import_module("telederm.accounts.management.commands.seed_demo")
    return importlib.reload(module)


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "applications": ClinicApplication.objects.count(),
    }


@pytest.mark.django_db
def test_seed_demo_creates_the_personas_and_a_second_run_creates_nothing(
    seed_module: ModuleType,
) -> None:
    assert row_counts() == {"organisations": 0, "users": 0, "memberships": 0, "applications": 0}

    first_output = seed()
    after_first = row_counts()
    assert after_first["organisations"] == 8
    assert after_first["users"] == after_first["memberships"] == 11
    assert after_first["applications"] == 1
    region_admin = User.objects.get(email="region@demo.telederm.se")
    assert region_admin.check_password("telederm-demo-2026")
    assert region_admin.memberships.get().role == Role.REGION_ADMIN
    assert "new rows" in first_output

    second_output = seed()
    assert row_counts() == after_first
    assert "(0 new rows)" in second_output


@pytest.mark.django_db
def test_seed_demo_stays_idempotent_however_often_it_runs_in_one_process(
    seed_module: ModuleType,
) -> None:
    seed()
    counts = row_counts()
    for _ in range(9):
        assert "(0 new rows)" in seed()
    assert row_counts() == counts


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_in_production_mode(settings: LazySettings) -> None:
    settings.DEMO = False

    with pytest.raises(CommandError, match="demo mode"):
        seed()
    assert row_counts() == {"organisations": 0, "users": 0, "memberships": 0, "applications": 0}


# --- create_region_admin ----------------------------------------------------------------------

REGION_ADMIN_ARGS = [
    "--region-name",
    "Region Testland",
    "--region-hsa-id",
    "se2321000016-0001",
    "--email",
    "Ada.Admin@Region.example.se",
    "--first-name",
    "Ada",
    "--last-name",
    "Admin",
    "--hsa-id",
    "SE2321000016-A001",
    "--mobile",
    "070-174 06 45",
    "--title",
    "Systemförvaltare",
]


@pytest.mark.django_db
def test_create_region_admin_creates_region_user_membership_and_sends_activation(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_region_admin", *REGION_ADMIN_ARGS, stdout=out)

    region = Organisation.objects.get(hsa_id="SE2321000016-0001")
    assert region.kind == OrganisationKind.REGION
    assert region.name == "Region Testland"
    assert region.region is None
    user = User.objects.get(email="ada.admin@region.example.se")
    assert (user.first_name, user.last_name, user.hsa_id) == ("Ada", "Admin", "SE2321000016-A001")
    assert user.mobile == "+46701740645"
    assert user.activated_at is None
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.role) == (region, Role.REGION_ADMIN)
    assert membership.ended_at is None

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    match = re.search(r"https?://[^/\s]+(/activate/[^\s/]+/)", str(message.body))
    assert match, message.body
    assert client.get(match.group(1)).status_code == 200
    assert (
        OneTimeLink.objects.filter(user=user, purpose=OneTimeLink.Purpose.ACTIVATION).count() == 1
    )

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        Action.ORGANISATION_CREATED,
        Action.USER_CREATED,
        Action.MEMBERSHIP_ADDED,
        Action.ACTIVATION_SENT,
    } <= actions
    assert user.email in out.getvalue()


@pytest.mark.django_db
def test_create_region_admin_reuses_an_existing_region(
    django_capture_on_commit_callbacks,
) -> None:
    existing = Organisation.objects.create(
        kind=OrganisationKind.REGION, name="Region Testland", hsa_id="SE2321000016-0001"
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("create_region_admin", *REGION_ADMIN_ARGS, stdout=StringIO())

    assert Organisation.objects.count() == 1
    assert Membership.objects.get(user__email="ada.admin@region.example.se").organisation == (
        existing
    )
    assert not AuditEvent.objects.filter(action=Action.ORGANISATION_CREATED).exists()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_create_region_admin_with_a_bad_mobile_number_creates_nothing(
    django_capture_on_commit_callbacks,
) -> None:
    args = [*REGION_ADMIN_ARGS]
    args[args.index("--mobile") + 1] = "08-123 456 00"  # a landline

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CommandError):
        call_command("create_region_admin", *args, stdout=StringIO())

    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_create_region_admin_refuses_a_hsa_id_that_belongs_to_a_clinic(world: World) -> None:
    args = [*REGION_ADMIN_ARGS]
    args[args.index("--region-hsa-id") + 1] = str(world.clinic_a.hsa_id)
    users_before = User.objects.count()

    with pytest.raises(CommandError, match="not a region"):
        call_command("create_region_admin", *args, stdout=StringIO())

    assert User.objects.count() == users_before
    assert mail.outbox == []
