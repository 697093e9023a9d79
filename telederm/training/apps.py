from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "telederm.training"
    label = "training"
    verbose_name = _("Licence exam and equipment test")
