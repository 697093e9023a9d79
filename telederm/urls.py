from django.urls import include, path

urlpatterns = [
    path("", include("telederm.web.urls")),
    path("", include("telederm.accounts.urls")),
    path("audit/", include("telederm.audit.urls")),
    path("referrals/", include("telederm.referrals.urls")),
    path("review/", include("telederm.review.urls")),
    path("messages/", include("telederm.messaging.urls")),
    path("region/exports/", include("telederm.integrations.urls")),
    path("fhir/", include("telederm.fhir.urls")),
    path("training/", include("telederm.training.urls")),
    path("outcomes/", include("telederm.outcomes.urls")),
]
