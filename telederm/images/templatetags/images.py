"""What the upload script needs to know from the server (``static/telederm/upload.js``)."""

from __future__ import annotations

from django import template

from telederm.images.chunks import CHUNK_BYTES

register = template.Library()


@register.simple_tag
def upload_chunk_bytes() -> int:
    """The size of the pieces a large photo is sent in (the last piece may be shorter)."""
    return CHUNK_BYTES
