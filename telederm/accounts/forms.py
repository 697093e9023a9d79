"""Forms of the accounts app. They validate input and show errors; services do the writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telederm.accounts.models import Organisation, Role, User
from telederm.accounts.services.users import PersonData
from telederm.lib.identifiers import normalise_hsa_id, normalise_kombikakod, normalise_mobile


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("One-time code"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )
    remember = forms.BooleanField(
        label=_("Trust this device for 12 hours (not on a shared computer)"),
        required=False,
        initial=True,
    )


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
        help_text=_("At least 12 characters. A few unrelated words make a good password."),
    )
    password2 = forms.CharField(
        label=_("Repeat the password"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        elif first:
            try:
                password_validation.validate_password(first, self.user)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class PersonForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    hsa_id = forms.CharField(
        label=_("HSA-ID"), max_length=40, help_text=_("For example SE2321000016-ABC1")
    )
    title = forms.CharField(
        label=_("Professional title"),
        max_length=100,
        required=False,
        help_text=_("For example Distriktsläkare, Specialistläkare, Sjuksköterska"),
    )
    mobile = forms.CharField(
        label=_("Private mobile number"),
        max_length=30,
        help_text=_("One-time login codes are sent here."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["hsa_id"])

    def clean_mobile(self) -> str:
        return normalise_mobile(self.cleaned_data["mobile"])

    def person(self) -> PersonData:
        data = self.cleaned_data
        return PersonData(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            hsa_id=data["hsa_id"],
            mobile=data["mobile"],
            title=data.get("title", ""),
        )


class NewUserForm(PersonForm):
    role = forms.ChoiceField(label=_("Role"), choices=())

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [(role, Role(role).label) for role in roles]


class EditUserForm(PersonForm):
    identity_checked = forms.BooleanField(
        label=_(
            "I have checked the user's identity (required when the mobile number changes, "
            "e.g. after a lost phone)"
        ),
        required=False,
    )


class LicenceForm(forms.Form):
    passed_on = forms.DateField(
        label=_("Date passed"), widget=forms.DateInput(attrs={"type": "date"})
    )
    issuer = forms.CharField(
        label=_("Issuer"), max_length=200, initial=_("Regional teledermoscopy course")
    )
    reference = forms.CharField(label=_("Certificate reference"), max_length=200, required=False)
    valid_until = forms.DateField(
        label=_("Valid until (if limited)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_passed_on(self) -> Any:
        value = self.cleaned_data["passed_on"]
        if value > timezone.localdate():
            raise ValidationError(_("The date passed cannot be in the future."))
        return value


class ApplicationForm(forms.Form):
    clinic_name = forms.CharField(label=_("Clinic name"), max_length=200)
    kombikakod = forms.CharField(label=_("Kombikakod"), max_length=30)
    clinic_hsa_id = forms.CharField(label=_("The clinic's HSA-ID"), max_length=40)
    ehr_integrated = forms.BooleanField(
        label=_("The clinic's EHR is integrated with Telederm"), required=False
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    head_name = forms.CharField(label=_("Head of clinic, name"), max_length=200)
    head_email = forms.EmailField(label=_("Head of clinic, e-mail"))
    head_hsa_id = forms.CharField(label=_("Head of clinic, HSA-ID"), max_length=40)
    admin_first_name = forms.CharField(label=_("First name"), max_length=100)
    admin_last_name = forms.CharField(label=_("Last name"), max_length=100)
    admin_email = forms.EmailField(label=_("E-mail"))
    admin_hsa_id = forms.CharField(label=_("HSA-ID"), max_length=40)
    admin_mobile = forms.CharField(
        label=_("Private mobile number"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    admin_title = forms.CharField(label=_("Professional title"), max_length=100, required=False)

    clinic_fields = (
        "clinic_name",
        "kombikakod",
        "clinic_hsa_id",
        "ehr_integrated",
        "address",
        "phone",
    )
    head_fields = ("head_name", "head_email", "head_hsa_id")
    admin_fields = (
        "admin_first_name",
        "admin_last_name",
        "admin_email",
        "admin_hsa_id",
        "admin_mobile",
        "admin_title",
    )

    def clean_kombikakod(self) -> str:
        return normalise_kombikakod(self.cleaned_data["kombikakod"])

    def clean_clinic_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["clinic_hsa_id"])

    def clean_head_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["head_hsa_id"])

    def clean_admin_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["admin_hsa_id"])

    def clean_admin_mobile(self) -> str:
        return normalise_mobile(self.cleaned_data["admin_mobile"])

    def section(self, names: tuple[str, ...]) -> list[forms.BoundField]:
        return [self[name] for name in names]

    def clinic_section(self) -> list[forms.BoundField]:
        return self.section(self.clinic_fields)

    def head_section(self) -> list[forms.BoundField]:
        return self.section(self.head_fields)

    def admin_section(self) -> list[forms.BoundField]:
        return self.section(self.admin_fields)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the clinic)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class MobileChangeForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    mobile = forms.CharField(
        label=_("New mobile number"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )

    def clean_mobile(self) -> str:
        return normalise_mobile(self.cleaned_data["mobile"])


class TotpConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class UnitForm(forms.Form):
    """A clinic or a review unit as the region administrator registers it."""

    name = forms.CharField(label=_("Name"), max_length=200)
    hsa_id = forms.CharField(label=_("HSA-ID"), max_length=40)
    kombikakod = forms.CharField(label=_("Kombikakod"), max_length=30, required=False)
    ehr_integrated = forms.BooleanField(
        label=_("The clinic's EHR is integrated with Telederm"), required=False
    )
    telederma_active_from = forms.DateField(
        label=_("Telederma active from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty until the clinic may send referrals."),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    default_review_unit = forms.ModelChoiceField(
        label=_("Default review unit"),
        queryset=Organisation.objects.none(),
        required=False,
        to_field_name="public_id",
        help_text=_("Where the clinic's referrals go. Empty: the region's first review unit."),
    )
    second_reading = forms.ChoiceField(
        label=_("Second reading before an answer is sent"),
        choices=Organisation.SecondReading.choices,
        required=False,
    )

    CLINIC_ONLY = ("kombikakod", "ehr_integrated", "telederma_active_from")

    def __init__(
        self, *args: Any, kind: str, region: Organisation | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if kind != "clinic":
            for name in (*self.CLINIC_ONLY, "default_review_unit"):
                del self.fields[name]
        else:
            self.fields["kombikakod"].required = True
            del self.fields["second_reading"]
            units = self.fields["default_review_unit"]
            assert isinstance(units, forms.ModelChoiceField)
            units.queryset = Organisation.objects.filter(
                region=region, kind="review_unit", is_active=True
            )

    def clean_hsa_id(self) -> str:
        return normalise_hsa_id(self.cleaned_data["hsa_id"])

    def clean_kombikakod(self) -> str:
        value = self.cleaned_data.get("kombikakod", "")
        return normalise_kombikakod(value) if value else ""
