"""An e-mail backend for demo and tests: prints each message and keeps a copy as a file.

Demo users (and the browser tests) open the activation e-mail from ``DATA_DIR/mail``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.crypto import get_random_string


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
