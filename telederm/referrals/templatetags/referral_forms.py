"""Template helpers of the referral forms."""

from __future__ import annotations

import uuid

from django import template

register = template.Library()


@register.simple_tag
def form_key() -> str:
    """A fresh key for a form that creates something: the same key submitted twice (a double
    click, a retry) creates it once (``services.start_referral``)."""
    return str(uuid.uuid4())
