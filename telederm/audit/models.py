"""The append-only audit log.

Rows hold snapshots of who did what (id, HSA-ID, name, role, organisation, patient identity)
rather than foreign keys, so that the log survives changes to the rows it describes and is kept
for at least five years. Database triggers refuse UPDATE and DELETE (migration 0002).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    LOGIN_PASSWORD_OK = "auth.password_ok", _("Password accepted, code requested")
    LOGIN_SUCCEEDED = "auth.login_succeeded", _("Logged in")
    LOGIN_FAILED = "auth.login_failed", _("Login failed")
    LOGIN_LOCKED_OUT = "auth.locked_out", _("Login locked out")
    LOGOUT = "auth.logout", _("Logged out")
    SESSION_EXPIRED = "auth.session_expired", _("Session ended (time limit)")
    OTP_SENT = "otp.sent", _("One-time code sent")
    OTP_SEND_REFUSED = "otp.send_refused", _("One-time code not sent (limit)")
    OTP_FAILED = "otp.failed", _("One-time code wrong or expired")
    TOTP_ENROLLED = "otp.totp_enrolled", _("Authenticator app enrolled")
    TOTP_REMOVED = "otp.totp_removed", _("Authenticator app removed")
    ACTIVATION_SENT = "account.activation_sent", _("Activation link sent")
    ACTIVATED = "account.activated", _("Account activated")
    RESET_REQUESTED = "account.reset_requested", _("Password reset requested")
    PASSWORD_RESET = "account.password_reset", _("Password reset")
    LINK_REFUSED = "account.link_refused", _("Expired, used or invalid link")
    MOBILE_CHANGED = "account.mobile_changed", _("Mobile number changed")
    USER_CREATED = "user.created", _("User created")
    USER_CHANGED = "user.changed", _("User changed")
    USER_DEACTIVATED = "user.deactivated", _("User deactivated")
    MEMBERSHIP_ADDED = "user.membership_added", _("Role added")
    LICENCE_REGISTERED = "user.licence_registered", _("Licence registered")
    APPLICATION_SUBMITTED = "application.submitted", _("Clinic application submitted")
    APPLICATION_APPROVED = "application.approved", _("Clinic application approved")
    APPLICATION_REJECTED = "application.rejected", _("Clinic application rejected")
    ORGANISATION_CREATED = "organisation.created", _("Organisation created")
    ORGANISATION_CHANGED = "organisation.changed", _("Organisation changed")
    AUDIT_SEARCHED = "audit.searched", _("Audit log searched")
    AUDIT_EXPORTED = "audit.exported", _("Audit log exported")
    PATIENT_LOG_EXTRACTED = "audit.patient_extract", _("Patient log extract made")
    REFERRAL_CREATED = "referral.created", _("Referral draft created")
    REFERRAL_CHANGED = "referral.changed", _("Referral changed")
    REFERRAL_PATIENT_SET = "referral.patient_set", _("Patient chosen for referral")
    REFERRAL_SENT = "referral.sent", _("Referral sent")
    REFERRAL_WITHDRAWN = "referral.withdrawn", _("Referral withdrawn")
    REFERRAL_VIEWED = "referral.viewed", _("Referral viewed")
    REFERRAL_LIST_VIEWED = "referral.list_viewed", _("Referral list viewed")
    LESION_ADDED = "lesion.added", _("Lesion added to referral")
    LESION_REMOVED = "lesion.removed", _("Lesion removed from referral")
    IMAGE_UPLOADED = "image.uploaded", _("Image uploaded")
    IMAGE_REJECTED = "image.rejected", _("Image rejected")
    IMAGE_VIEWED = "image.viewed", _("Image viewed")
    IMAGE_REMOVED = "image.removed", _("Image removed")
    IMAGE_WARNINGS_ACCEPTED = "image.warnings_accepted", _("Quality warning accepted")
    QUEUE_VIEWED = "review.queue_viewed", _("Review queue viewed")
    CASE_TAKEN = "review.taken", _("Case taken")
    CASE_RELEASED = "review.released", _("Case released to the queue")
    ANSWER_SENT = "review.answer_sent", _("Answer sent")
    ANSWER_READ = "review.answer_read", _("Answer marked as read")
    MESSAGE_SENT = "message.sent", _("Message sent")
    COMPLEMENT_REQUESTED = "review.complement_requested", _("Complement requested")
    COMPLEMENT_REPLIED = "review.complement_replied", _("Complement answered by the clinic")
    CASE_HANDED_OVER = "review.handed_over", _("Case handed over")
    CASE_MOVED = "review.moved", _("Case moved to another review unit")
    DEADLINE_FLAGGED = "review.deadline_flagged", _("Deadline warning sent")
    ANSWER_AMENDED = "review.answer_amended", _("Answer amended")
    EXPORT_RETRIED = "integration.export_retried", _("Export to an outside system retried")
    SECOND_READING_REQUESTED = "review.second_reading_requested", _("Answer sent to second reading")
    SECOND_READING_AGREED = "review.second_reading_agreed", _("Second reader agreed")
    SECOND_READING_CHANGES = "review.second_reading_changes", _("Second reader proposed changes")
    THREAD_READ = "message.thread_read", _("Messages read")
    CONSULTANT_INVITED = "review.consultant_invited", _("Colleague asked to consult")
    FHIR_READ = "fhir.read", _("Read through the FHIR API")
    FHIR_WRITE = "fhir.write", _("Written through the FHIR API")
    FHIR_DENIED = "fhir.denied", _("FHIR API call refused")
    API_CLIENT_CREATED = "fhir.client_created", _("API client created")
    EXAM_STARTED = "training.exam_started", _("Licence exam started")
    EXAM_SUBMITTED = "training.exam_submitted", _("Licence exam submitted")
    EXAM_PASSED = "training.exam_passed", _("Licence exam passed")
    EXAM_FAILED = "training.exam_failed", _("Licence exam failed")
    QUESTION_CREATED = "training.question_created", _("Exam question created")
    QUESTION_CHANGED = "training.question_changed", _("Exam question changed")
    QUESTION_RETIRED = "training.question_retired", _("Exam question retired")
    QUESTION_RESTORED = "training.question_restored", _("Exam question restored")
    EQUIPMENT_REGISTERED = "training.equipment_registered", _("Equipment registered")
    EQUIPMENT_CHANGED = "training.equipment_changed", _("Equipment changed")
    EQUIPMENT_TESTED = "training.equipment_tested", _("Equipment test photo checked")
    OUTCOME_REGISTERED = "outcome.registered", _("Follow-up registered")
    OUTCOME_CHANGED = "outcome.changed", _("Follow-up changed")
    OUTCOME_REMINDER_SENT = "outcome.reminder_sent", _("Follow-up reminder sent")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # No ``choices`` on the column: new kinds of events need no migration of this large table.
    action = models.CharField(max_length=40, db_index=True)
    success = models.BooleanField(default=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_email = models.CharField(max_length=254, blank=True)
    actor_hsa_id = models.CharField(max_length=31, blank=True)
    actor_name = models.CharField(max_length=201, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    organisation_hsa_id = models.CharField(max_length=31, blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True, db_index=True)
    target_label = models.CharField(max_length=200, blank=True)
    patient_id = models.CharField(max_length=12, blank=True, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["actor_id", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_email}"

    def get_action_display(self) -> str:
        try:
            return str(Action(self.action).label)
        except ValueError:
            return self.action
