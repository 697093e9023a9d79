"""The follow-up form and the statistics filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telederm.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from telederm.outcomes.access import Perspective
from telederm.outcomes.models import FollowUp, Invasion, Outcome, Place
from telederm.outcomes.services import FollowUpData
from telederm.review.models import Diagnosis


class FollowUpForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("What happened?"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    done_on = forms.DateField(
        label=_("Date of the excision or visit"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    place = forms.ChoiceField(
        label=_("Where"),
        required=False,
        choices=[("", _("Choose…")), *Place.choices],
    )
    pad_diagnosis = forms.ChoiceField(
        label=_("PAD diagnosis"),
        required=False,
        choices=[("", _("No PAD result yet")), *Diagnosis.choices],
        help_text=_("The histopathology result, in the same terms as the answer."),
    )
    pad_invasion = forms.ChoiceField(
        label=_("In situ or invasive"),
        required=False,
        choices=[("", _("Not applicable")), *Invasion.choices],
        help_text=_("For malignant diagnoses. Set by itself for melanoma in situ and invasive."),
    )
    breslow_mm = forms.DecimalField(
        label=_("Breslow thickness (mm)"),
        required=False,
        max_digits=4,
        decimal_places=2,
        help_text=_("Only for an invasive melanoma."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "max": "50"}),
    )
    pad_reference = forms.CharField(
        label=_("PAD reference (optional)"),
        required=False,
        max_length=100,
        help_text=_("E.g. the pathology lab's report number. No patient names."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    @classmethod
    def for_follow_up(cls, follow_up: FollowUp | None) -> FollowUpForm:
        if follow_up is None:
            return cls()
        initial = {name: getattr(follow_up, name) for name in FollowUpData.__dataclass_fields__}
        return cls(initial={**initial, "version": follow_up.version})

    def data_object(self) -> FollowUpData:
        data = self.cleaned_data
        return FollowUpData(
            outcome=data["outcome"],
            done_on=data.get("done_on"),
            place=data.get("place") or "",
            pad_diagnosis=data.get("pad_diagnosis") or "",
            pad_invasion=data.get("pad_invasion") or "",
            breslow_mm=data.get("breslow_mm"),
            pad_reference=data.get("pad_reference") or "",
        )


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    clinic: Organisation | None = None
    unit: Organisation | None = None
    reviewer: User | None = None


MAX_PERIOD_DAYS = 5 * 366


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, from the first day of the month eleven months back."""
    today = today or timezone.localdate()
    start = today.replace(day=1)
    for _month in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, today


class StatsFilterForm(forms.Form):
    """Filters of the statistics page (GET). Only choices the perspective allows are offered,
    and anything else is refused, so a filter can never widen what the viewer sees."""

    scope = forms.ChoiceField(label=_("Statistics for"), required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    clinic = forms.ChoiceField(label=_("Clinic"), required=False)
    unit = forms.ChoiceField(label=_("Review unit"), required=False)
    reviewer = forms.ChoiceField(label=_("Reviewer"), required=False)

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        perspective: Perspective,
        scopes: list[Organisation],
    ) -> None:
        # Always bound, with the default period filled in, so that the dates show in the form.
        filled = data.copy() if data is not None else QueryDict(mutable=True)
        for name, default in zip(("start", "end"), default_period(), strict=True):
            if not filled.get(name):
                filled[name] = default.isoformat()
        super().__init__(filled)
        self.perspective = perspective
        self.options: dict[str, dict[str, Any]] = {
            "clinic": {},
            "unit": {},
            "reviewer": {},
        }
        region = perspective.region
        if perspective.is_region:
            for org in Organisation.objects.filter(region=region).order_by("name"):
                kind = "clinic" if org.kind == OrganisationKind.CLINIC else "unit"
                self.options[kind][str(org.public_id)] = org
        if perspective.shows_reviewers:
            units = (
                Organisation.objects.filter(region=region, kind=OrganisationKind.REVIEW_UNIT)
                if perspective.is_region
                else [perspective.organisation]
            )
            people = User.objects.filter(
                memberships__in=Membership.objects.filter(
                    organisation__in=units, role__in=[Role.DERMATOLOGIST, Role.UNIT_LEAD]
                )
            ).distinct()
            if perspective.own_reviewer_only is not None:
                people = people.filter(pk=perspective.own_reviewer_only.pk)
            for person in people.order_by("last_name", "first_name"):
                self.options["reviewer"][str(person.public_id)] = person
        scope = self.fields["scope"]
        assert isinstance(scope, forms.ChoiceField)
        scope.choices = [(str(org.public_id), org.name) for org in scopes]
        for name, everyone in (
            ("clinic", _("All clinics")),
            ("unit", _("All review units")),
            ("reviewer", _("All reviewers")),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", everyone)] + [
                (key, getattr(obj, "full_name", None) or str(obj))
                for key, obj in self.options[name].items()
            ]

    @property
    def offered(self) -> list[str]:
        """The filter fields shown for this perspective."""
        return [name for name in ("clinic", "unit", "reviewer") if self.options[name]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date must be on or after the start date."))
        elif start and end and (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("start", _("Choose a period of at most five years."))
        return data

    def filters(self) -> Filters:
        start, end = default_period()
        self.is_valid()  # a wrong field is left out (and shown as an error), the rest applies
        data = self.cleaned_data
        start = data.get("start") or start
        end = data.get("end") or end
        picked = {name: self.options[name].get(data.get(name) or "") for name in self.options}
        return Filters(start=start, end=end, **picked)
