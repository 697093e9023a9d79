"""Sending e-mail from tasks with retries, and an e-mail backend for demo and tests.

``send_or_retry`` is what mail tasks call: when the SMTP server is unreachable or answers with
a temporary error, the same task is queued again with back-off (1, 2, 4 … minutes, at most six
hours apart; ``TELEDERM_MAIL_MAX_ATTEMPTS`` attempts, ~20 hours by default), and this attempt
fails with ``MailDeferred`` so the task table shows what happened. django-tasks has no retries
of its own. After the last attempt the failed task stays in the task table with its recipient,
subject and text (nothing is dropped silently).

The console/file backend: demo users (and the browser tests) open the activation e-mail from
``DATA_DIR/mail``.
"""

from __future__ import annotations

import logging
import smtplib
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks.base import Task

logger = logging.getLogger(__name__)
LONGEST_WAIT = timedelta(hours=6)


class MailDeferred(Exception):
    """This attempt could not send the message; a later attempt is queued."""


def is_temporary(error: OSError) -> bool:
    """Worth trying again: no connection, a dropped one, or a 4xx answer. 5xx answers are final."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _message in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return True  # refused or lost connection, timeout, name lookup, TLS handshake


def retry_delay(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1, 2, …): doubling, capped at six hours."""
    base = timedelta(seconds=settings.TELEDERM_MAIL_RETRY_SECONDS)
    return min(base * 2 ** min(attempt - 1, 20), LONGEST_WAIT)


def send_or_retry(
    message: EmailMessage, *, task: Task[Any, Any], args: Sequence[Any], attempt: int
) -> None:
    """Send ``message``; on a temporary failure queue ``task(*args, attempt=attempt + 1)``."""
    try:
        message.send()
    except OSError as error:  # smtplib's errors are OSErrors
        last = attempt >= settings.TELEDERM_MAIL_MAX_ATTEMPTS
        if last or not is_temporary(error) or not task.get_backend().supports_defer:
            logger.error(
                "e-mail to %s not sent (attempt %d, given up): %r", message.to, attempt, error
            )
            raise
        run_after = timezone.now() + retry_delay(attempt)
        task.using(run_after=run_after).enqueue(*args, attempt=attempt + 1)
        logger.warning(
            "e-mail to %s not sent (attempt %d), trying again after %s: %r",
            message.to,
            attempt,
            run_after.isoformat(),
            error,
        )
        raise MailDeferred(f"attempt {attempt} failed; next attempt after {run_after}") from error


class ConsoleFileEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            raw = message.message().as_bytes(linesep="\n")
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
            path = folder / f"{stamp}-{get_random_string(6)}.eml"
            path.write_bytes(raw)
            sys.stdout.write(
                f"[e-mail] to={','.join(message.to)} subject={message.subject!r} file={path}\n"
            )
            sys.stdout.flush()
            sent += 1
        return sent
