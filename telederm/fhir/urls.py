"""The FHIR base is ``/fhir/``. Anything else under it answers with an OperationOutcome."""

from django.urls import path, re_path

from telederm.fhir import communications, pathology_in, views
from telederm.fhir.endpoint import ANY_CLIENT, PUBLIC, Route, endpoint
from telederm.fhir.models import Scope

app_name = "fhir"

urlpatterns = [
    path("", endpoint(POST=Route(Scope.REFERRAL_WRITE, views.transaction)), name="root"),
    path("metadata", endpoint(GET=Route(PUBLIC, views.metadata)), name="metadata"),
    path(
        "ServiceRequest",
        endpoint(
            GET=Route(Scope.REFERRAL_READ, views.search_service_requests),
            POST=Route(Scope.REFERRAL_WRITE, views.create_service_request),
        ),
        name="service_requests",
    ),
    path(
        "ServiceRequest/<str:resource_id>",
        endpoint(GET=Route(Scope.REFERRAL_READ, views.read_service_request_view)),
        name="service_request",
    ),
    path(
        "DiagnosticReport",
        endpoint(
            GET=Route(Scope.REPORT_READ, views.search_diagnostic_reports),
            POST=Route(Scope.PATHOLOGY_WRITE, pathology_in.create_pathology_report),
        ),
        name="diagnostic_reports",
    ),
    path(
        "DiagnosticReport/<str:resource_id>",
        # A teledermoscopy answer, or a PAD result sent in (the Location of its create).
        endpoint(GET=Route(Scope.REPORT_READ, pathology_in.read_report)),
        name="diagnostic_report",
    ),
    path(
        "Communication",
        endpoint(
            GET=Route(Scope.COMMUNICATION_READ, communications.search_communications),
            POST=Route(Scope.COMMUNICATION_WRITE, communications.create_communication),
        ),
        name="communications",
    ),
    path(
        "Communication/<str:resource_id>",
        endpoint(GET=Route(Scope.COMMUNICATION_READ, communications.read_communication)),
        name="communication",
    ),
    re_path(
        r"^(?P<rest>.+)$",
        endpoint(
            **{
                method: Route(ANY_CLIENT, views.unknown_path)
                for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            }
        ),
        name="unknown",
    ),
]
