"""System clients of the FHIR API and the identifiers they gave their referrals."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from telederm.accounts.models import Organisation
from telederm.referrals.models import Referral


class Scope(models.TextChoices):
    """What a client may do. A client holds a list of these (``ApiClient.scopes``)."""

    REFERRAL_READ = "referral.read", _("Read referrals (ServiceRequest)")
    REFERRAL_WRITE = "referral.write", _("Send referrals (ServiceRequest, transaction Bundle)")
    REPORT_READ = "report.read", _("Read answers (DiagnosticReport)")
    COMMUNICATION_READ = "communication.read", _("Read messages (Communication)")
    COMMUNICATION_WRITE = "communication.write", _("Send messages (Communication)")
    PATHOLOGY_WRITE = "pathology.write", _("Send histopathology results, PAD (DiagnosticReport)")


class ApiClient(models.Model):
    """An EHR or other system that calls the FHIR API with a bearer token.

    Only the SHA-256 digest of the token is stored; the token itself is shown once when the
    client is created (``manage.py create_api_client``). The secret is 256 random bits, so a
    plain digest is enough: nothing can be guessed from it. A client acts only for the clinics
    in ``organisations``: it sends their referrals and reads their answers and messages.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)
    token_digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    organisations = models.ManyToManyField(Organisation, related_name="api_clients")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class FhirReferralLink(models.Model):
    """A client's own identifier of a referral (``ServiceRequest.identifier`` or the
    ``If-None-Exist`` search), so that a repeated POST returns the referral it already made.

    The unique constraint is what makes concurrent repeats safe: the second insert fails and the
    request returns the first one's referral instead of a duplicate.
    """

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="referral_links")
    system = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="fhir_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "system", "value"], name="fhir_referral_link_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value} → {self.referral_id}"


class FhirPathologyLink(models.Model):
    """A client's identifier of a PAD report (``DiagnosticReport.identifier`` or the
    ``If-None-Exist`` search) and the referral whose follow-up it filled, so that a repeated POST
    returns the stored result instead of registering it again.

    As for referrals, the unique constraint makes concurrent repeats safe: the link is written
    first in the transaction, so a second request with the same identifier waits for (or fails
    against) the first and then returns what it stored.
    """

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="pathology_links")
    system = models.CharField(max_length=255)
    value = models.CharField(max_length=255)
    referral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, related_name="fhir_pathology_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "system", "value"], name="fhir_pathology_link_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system}|{self.value} → PAD of {self.referral_id}"
