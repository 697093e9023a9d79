"""Forms of the referral wizard. Phone first: big radio buttons, few words, instant errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from telederm.lib.patient_ids import PatientId, parse_patient_id
from telederm.referrals.bodysites import LATERALITY_HELP_TEXT, Laterality, site_choices
from telederm.referrals.models import (
    Duration,
    NaeviCount,
    Referral,
    SkinType,
    Suspicion,
    YesNoUnknown,
)


class PatientForm(forms.Form):
    personal_number = forms.CharField(
        label=_("Personnummer or samordningsnummer"),
        max_length=20,
        help_text=_("12 digits, e.g. 19121212-1212"),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "autofocus": True}
        ),
    )
    name = forms.CharField(label=_("Name (optional)"), max_length=200, required=False)
    protected_identity = forms.BooleanField(
        label=_("The patient has protected identity (skyddad identitet): store no name"),
        required=False,
    )
    parsed: PatientId

    def clean_personal_number(self) -> str:
        self.parsed = parse_patient_id(self.cleaned_data["personal_number"])
        return self.parsed.number


class LesionForm(forms.Form):
    body_site = forms.ChoiceField(label=_("Body site"), choices=())
    laterality = forms.ChoiceField(
        label=_("Side (the patient's)"),
        choices=Laterality.choices,
        initial=Laterality.UNPAIRED,
        help_text=LATERALITY_HELP_TEXT,
    )
    label = forms.CharField(
        label=_("Short description (optional)"),
        max_length=100,
        required=False,
        help_text=_("For example “the larger of two moles”"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["body_site"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a body site…")), *site_choices()]


RADIO_CHOICES = {
    "duration": Duration.choices,
    "previous_melanoma": YesNoUnknown.choices,
    "family_melanoma": YesNoUnknown.choices,
    "skin_type": SkinType.choices,
    "naevi_count": NaeviCount.choices,
    "suspicion": Suspicion.choices,
}


class HistoryForm(forms.ModelForm):
    class Meta:
        model = Referral
        fields = [
            "duration",
            "changed_size",
            "changed_shape",
            "changed_colour",
            "itch",
            "bleeding",
            "ulceration",
            "previous_melanoma",
            "family_melanoma",
            "skin_type",
            "naevi_count",
            "suspicion",
            "question",
            "free_text",
        ]
        labels = {
            "duration": _("How long has the lesion been there?"),
            "changed_size": _("Changed in size"),
            "changed_shape": _("Changed in shape"),
            "changed_colour": _("Changed in colour"),
            "itch": _("Itches"),
            "bleeding": _("Bleeds"),
            "ulceration": _("Ulcerated"),
            "previous_melanoma": _("Previous melanoma"),
            "family_melanoma": _("Melanoma in a parent, sibling or child"),
            "skin_type": _("Skin type (Fitzpatrick)"),
            "naevi_count": _("Number of moles on the body"),
            "suspicion": _("Your own assessment"),
            "question": _("Your question to the dermatologist"),
            "free_text": _("Anything else (optional)"),
        }
        widgets = {
            "duration": forms.RadioSelect,
            "previous_melanoma": forms.RadioSelect,
            "family_melanoma": forms.RadioSelect,
            "skin_type": forms.RadioSelect,
            "naevi_count": forms.RadioSelect,
            "suspicion": forms.RadioSelect,
            "question": forms.Textarea(attrs={"rows": 3}),
            "free_text": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radio buttons without the empty "---------" choice: nothing chosen means unanswered.
        for name, choices in RADIO_CHOICES.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.required = False
            field.choices = choices

    change_fields = ("changed_size", "changed_shape", "changed_colour")
    symptom_fields = ("itch", "bleeding", "ulceration")


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the referral withdrawn?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        required=False,
    )
