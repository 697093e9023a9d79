from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from telederm.audit.models import Action
from telederm.lib.patient_ids import parse_patient_id


class AuditSearchForm(forms.Form):
    who = forms.CharField(label=_("User (name, e-mail or HSA-ID)"), required=False, max_length=254)
    patient = forms.CharField(label=_("Patient (personnummer)"), required=False, max_length=13)
    unit = forms.CharField(label=_("Unit (name or HSA-ID)"), required=False, max_length=200)
    action = forms.ChoiceField(
        label=_("Event"), required=False, choices=[("", _("All events")), *Action.choices]
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    failures_only = forms.BooleanField(label=_("Only failed attempts"), required=False)
    flagged_only = forms.BooleanField(
        label=_("Only reads by someone with no role on the referral"), required=False
    )


class PatientExtractForm(forms.Form):
    personal_number = forms.CharField(
        label=_("Personnummer or samordningsnummer"), max_length=13, strip=True
    )

    def clean_personal_number(self) -> str:
        return parse_patient_id(self.cleaned_data["personal_number"]).number
