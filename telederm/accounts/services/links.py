"""Activation and password-reset links: random, single use, expiring.

The token in the link is an HMAC of the link's row and a random salt under the secret key. The
database keeps only a digest of it, and the e-mail task recomputes it from the row id, so neither a
copy of the database nor the task queue holds a usable link.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from enum import Enum

from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import get_random_string, salted_hmac

from telederm.accounts.models import OneTimeLink, User


class LinkState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    INVALID = "invalid"


def _token_for(link: OneTimeLink) -> str:
    mac = salted_hmac("telederm.accounts.link", f"{link.pk}:{link.salt}", algorithm="sha256")
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(*, user: User, purpose: OneTimeLink.Purpose) -> OneTimeLink:
    """Create a new link and supersede the user's older unused links of the same purpose."""
    now = timezone.now()
    with transaction.atomic():
        OneTimeLink.objects.filter(
            user=user, purpose=purpose, used_at__isnull=True, superseded_at__isnull=True
        ).update(superseded_at=now)
        link = OneTimeLink.objects.create(
            user=user,
            purpose=purpose,
            salt=get_random_string(32),
            token_digest=get_random_string(64),  # placeholder until the pk is known
            expires_at=now + timedelta(hours=settings.TELEDERM_LINK_VALID_HOURS),
        )
        link.token_digest = _digest(_token_for(link))
        link.save(update_fields=["token_digest"])
    return link


def link_url(link: OneTimeLink) -> str:
    name = (
        "accounts:activate"
        if link.purpose == OneTimeLink.Purpose.ACTIVATION
        else "accounts:reset_confirm"
    )
    return settings.TELEDERM_BASE_URL + reverse(name, kwargs={"token": _token_for(link)})


def find_link(token: str, purpose: OneTimeLink.Purpose) -> tuple[LinkState, OneTimeLink | None]:
    if not token or len(token) > 100:
        return LinkState.INVALID, None
    link = (
        OneTimeLink.objects.select_related("user")
        .filter(token_digest=_digest(token), purpose=purpose)
        .first()
    )
    if link is None:
        return LinkState.INVALID, None
    if link.used_at is not None or link.superseded_at is not None:
        return LinkState.USED, link
    if link.expires_at <= timezone.now() or not link.user.is_active:
        return LinkState.EXPIRED, link
    return LinkState.VALID, link


def use_link(link: OneTimeLink) -> bool:
    """Mark the link used; False when another request used it first (a double submit)."""
    updated = OneTimeLink.objects.filter(
        pk=link.pk,
        used_at__isnull=True,
        superseded_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).update(used_at=timezone.now())
    return updated == 1


def pending_links(user: User) -> models.QuerySet[OneTimeLink]:
    return OneTimeLink.objects.filter(
        user=user, used_at__isnull=True, superseded_at__isnull=True, expires_at__gt=timezone.now()
    )
