from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Outside systems: the image archive (DICOM) now, the EHR (FHIR) next."""

    name = "telederm.integrations"
    label = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
