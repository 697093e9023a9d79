from django.apps import AppConfig


class FhirConfig(AppConfig):
    """The FHIR R4 API for EHR systems: referrals in, answers and messages out."""

    name = "telederm.fhir"
    label = "fhir"
    default_auto_field = "django.db.models.BigAutoField"
