"""Forms of the training app: they show fields and errors; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from telederm.training.equipment import EquipmentData
from telederm.training.models import Equipment, Question, QuestionKind, Topic
from telederm.training.questions import MAX_OPTIONS, QuestionData


class QuestionForm(forms.Form):
    topic = forms.ChoiceField(label=_("Topic"), choices=Topic.choices)
    kind = forms.ChoiceField(
        label=_("Kind of question"), choices=QuestionKind.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    image = forms.FileField(
        label=_("Image (optional)"),
        required=False,
        help_text=_("A teaching image, never a patient's photo. JPEG, PNG or HEIC."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    remove_image = forms.BooleanField(label=_("Remove the current image"), required=False)
    image_alt = forms.CharField(
        label=_("Image description (for screen readers)"), required=False, max_length=300
    )
    explanation = forms.CharField(
        label=_("Explanation"),
        help_text=_("Shown with the result, after the exam has been submitted."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )

    def __init__(self, *args: Any, question: Question | None = None, **kwargs: Any) -> None:
        if question is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_for(question)
        super().__init__(*args, **kwargs)
        if question is None or not question.image:
            del self.fields["remove_image"]
        for n in range(1, MAX_OPTIONS + 1):
            self.fields[f"option_{n}"] = forms.CharField(
                label=_("Option %(n)d") % {"n": n}, required=False, max_length=500
            )
            self.fields[f"correct_{n}"] = forms.BooleanField(
                label=_("Option %(n)d is correct") % {"n": n}, required=False
            )

    def option_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"option_{n}"], self[f"correct_{n}"]) for n in range(1, MAX_OPTIONS + 1)]

    def data_for_service(self) -> QuestionData:
        data = self.cleaned_data
        return QuestionData(
            topic=data["topic"],
            kind=data["kind"],
            text=data["text"],
            explanation=data["explanation"],
            image_alt=data.get("image_alt", ""),
            options=[
                (data.get(f"option_{n}", ""), bool(data.get(f"correct_{n}")))
                for n in range(1, MAX_OPTIONS + 1)
            ],
        )


def initial_for(question: Question) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "topic": question.topic,
        "kind": question.kind,
        "text": question.text,
        "explanation": question.explanation,
        "image_alt": question.image_alt,
    }
    for n, option in enumerate(question.options.all(), 1):
        initial[f"option_{n}"] = option.text
        initial[f"correct_{n}"] = option.is_correct
    return initial


class EquipmentForm(forms.Form):
    phone_model = forms.CharField(label=_("Phone model"), max_length=120)
    dermatoscope_model = forms.CharField(label=_("Dermatoscope model"), max_length=120)
    serial_number = forms.CharField(
        label=_("Serial or inventory number"), max_length=80, required=False
    )
    received_on = forms.DateField(
        label=_("Date received"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    in_use = forms.BooleanField(label=_("In use"), required=False, initial=True)

    @classmethod
    def for_equipment(cls, equipment: Equipment, data: Any = None) -> EquipmentForm:
        return cls(
            data,
            initial={
                "phone_model": equipment.phone_model,
                "dermatoscope_model": equipment.dermatoscope_model,
                "serial_number": equipment.serial_number,
                "received_on": equipment.received_on,
                "in_use": equipment.in_use,
            },
        )

    def data_for_service(self) -> EquipmentData:
        data = self.cleaned_data
        return EquipmentData(
            phone_model=data["phone_model"],
            dermatoscope_model=data["dermatoscope_model"],
            serial_number=data["serial_number"],
            received_on=data["received_on"],
            in_use=data["in_use"],
        )
