"""Background tasks of the accounts app: thin, idempotent wrappers around e-mail sending.

Both retry with back-off while the SMTP server is unreachable (``lib/mail.send_or_retry``);
``attempt`` is set by the retry, callers leave it out.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation
from django_tasks import task

from telederm.accounts.models import OneTimeLink
from telederm.accounts.services.links import link_url
from telederm.lib.mail import send_or_retry

_LINK_TEMPLATES = {
    OneTimeLink.Purpose.ACTIVATION: "accounts/email/activation.txt",
    OneTimeLink.Purpose.PASSWORD_RESET: "accounts/email/password_reset.txt",
}


@task()
def send_link_email_task(link_id: int, attempt: int = 1) -> None:
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
    message = EmailMessage(subject=subject.strip(), body=text.lstrip(), to=[user.email])
    send_or_retry(message, task=send_link_email_task, args=[link_id], attempt=attempt)


@task()
def send_plain_email_task(to: list[str], subject: str, body: str, attempt: int = 1) -> None:
    """Send a message that carries no secret and no patient data (already rendered)."""
    message = EmailMessage(subject=subject, body=body, to=to)
    send_or_retry(message, task=send_plain_email_task, args=[to, subject, body], attempt=attempt)
