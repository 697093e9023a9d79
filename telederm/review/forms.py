from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from telederm.review.models import Action, Answer, Certainty, Diagnosis


class AnswerForm(forms.ModelForm):
    class Meta:
        model = Answer
        fields = [
            "diagnosis",
            "certainty",
            "action",
            "follow_up_months",
            "text_to_gp",
            "teaching_comment",
        ]
        labels = {
            "diagnosis": _("Diagnosis"),
            "certainty": _("How sure"),
            "action": _("Recommended action"),
            "follow_up_months": _("Check-up in (months)"),
            "text_to_gp": _("Answer to the GP"),
            "teaching_comment": _("Teaching comment (optional)"),
        }
        widgets = {
            "certainty": forms.RadioSelect,
            "action": forms.RadioSelect,
            "text_to_gp": forms.Textarea(attrs={"rows": 5}),
            "teaching_comment": forms.Textarea(attrs={"rows": 2}),
            "follow_up_months": forms.NumberInput(attrs={"min": 1, "max": 36}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (
            ("diagnosis", [("", _("Choose a diagnosis…")), *Diagnosis.choices]),
            ("certainty", Certainty.choices),
            ("action", Action.choices),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
