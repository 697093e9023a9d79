"""Background tasks of the accounts app: thin, idempotent wrappers around e-mail sending."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from telederm.accounts.models import OneTimeLink
from telederm.accounts.services.links import link_url

_LINK_TEMPLATES = {
    OneTimeLink.Purpose.ACTIVATION: "accounts/email/activation.txt",
    OneTimeLink.Purpose.PASSWORD_RESET: "accounts/email/password_reset.txt",
}


@task()
def send_link_email_task(link_id: int) -> None:
    link = OneTimeLink.objects.select_related("user").filter(pk=link_id).first()
    if link is None or link.used_at is not None or link.superseded_at is not None:
        return  # A newer link was sent, or this one was already used: nothing to do.
    user = link.user
    with translation.override(user.language):
        body = render_to_string(
            _LINK_TEMPLATES[OneTimeLink.Purpose(link.purpose)],
            {
                "user": user,
                "url": link_url(link),
                "hours": settings.TELEDERM_LINK_VALID_HOURS,
                "expires_at": link.expires_at,
            },
        )
        subject, _, text = body.partition("\n")
    EmailMessage(subject=subject.strip(), body=text.lstrip(), to=[user.email]).send()


@task()
def send_plain_email_task(to: list[str], subject: str, body: str) -> None:
    """Send a message that carries no secret and no patient data (already rendered)."""
    EmailMessage(subject=subject, body=body, to=to).send()
