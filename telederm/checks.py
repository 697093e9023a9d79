"""System checks: production mode refuses the demo-only defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

DEMO_ONLY_EMAIL = {
    "telederm.lib.mail.ConsoleFileEmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}
DEMO_ONLY_SMS = {"telederm.lib.sms.ConsoleFileSmsBackend"}


@register("telederm", deploy=False)
def production_settings(app_configs: Any, **kwargs: Any) -> list[Error]:
    if settings.DEMO:
        return []
    errors = []
    if not settings.SECRET_KEY or len(settings.SECRET_KEY) < 50:
        errors.append(
            Error("Set DJANGO_SECRET_KEY (at least 50 random characters).", id="telederm.E001")
        )
    if settings.EMAIL_BACKEND in DEMO_ONLY_EMAIL:
        errors.append(
            Error(
                "Production mode needs a real e-mail backend (TELEDERM_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).",
                id="telederm.E002",
            )
        )
    if settings.TELEDERM_SMS_BACKEND in DEMO_ONLY_SMS:
        errors.append(
            Error(
                "Production mode needs an SMS gateway (TELEDERM_SMS_BACKEND=telederm.lib.sms.HttpSmsBackend).",
                id="telederm.E003",
            )
        )
    if settings.TELEDERM_SMS_BACKEND == "telederm.lib.sms.HttpSmsBackend" and not (
        settings.TELEDERM_SMS_HTTP_URL
    ):
        errors.append(
            Error("Set TELEDERM_SMS_HTTP_URL, the address of the SMS gateway.", id="telederm.E007")
        )
    if settings.DEBUG:
        errors.append(Error("DJANGO_DEBUG must be off in production mode.", id="telederm.E004"))
    if not settings.TELEDERM_BASE_URL.startswith("https://"):
        errors.append(Error("TELEDERM_BASE_URL must be an https:// address.", id="telederm.E005"))
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        errors.append(
            Error(
                "Production mode needs PostgreSQL (DATABASE_URL=postgres://…).", id="telederm.E006"
            )
        )
    return errors
