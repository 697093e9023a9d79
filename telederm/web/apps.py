from django.apps import AppConfig


class WebConfig(AppConfig):
    """Pages that belong to no domain: start page, about, language, error pages."""

    name = "telederm.web"
    label = "web"
