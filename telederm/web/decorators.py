"""Marks for views. Every view needs a logged-in, second-factor-verified user unless marked."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

V = TypeVar("V", bound=Callable[..., object])


def public(view: V) -> V:
    """Let anonymous visitors reach this view (login, activation, application, about)."""
    view.telederm_public = True  # type: ignore[attr-defined]
    return view
