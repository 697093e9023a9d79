from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("New message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput)
