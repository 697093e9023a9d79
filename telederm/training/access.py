"""Who may reach which training object. As everywhere: a function page the role lacks is 403,
an object outside the caller's reach is 404 ("no access" looks like "does not exist")."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404

from telederm.accounts import access
from telederm.accounts.models import Membership, Organisation, OrganisationKind, User
from telederm.training.exam import gp_membership
from telederm.training.models import Equipment, EquipmentTest, ExamAttempt, Question


def require_gp(user: User) -> Membership:
    """The exam pages are for users with an active GP role."""
    membership = gp_membership(user)
    if membership is None:
        raise PermissionDenied
    return membership


def get_attempt_for(user: User, public_id: UUID) -> ExamAttempt:
    """Only the person who sits the exam sees the attempt (and its answers)."""
    require_gp(user)
    attempt = (
        ExamAttempt.objects.select_related("user", "clinic", "region", "licence")
        .filter(public_id=public_id, user=user)
        .first()
    )
    if attempt is None:
        raise Http404
    return attempt


def get_question_for(user: User, public_id: UUID) -> Question:
    access.require_region_admin(user)
    question = (
        Question.objects.select_related("region")
        .filter(public_id=public_id, region__in=access.administered_regions(user))
        .first()
    )
    if question is None:
        raise Http404
    return question


def get_managed_clinic(user: User, public_id: UUID) -> Organisation:
    """A clinic whose equipment the user manages: its center admin, or its region's admin."""
    organisation = access.get_managed_organisation(user, public_id)
    if organisation.kind != OrganisationKind.CLINIC:
        raise Http404
    return organisation


def get_equipment(clinic: Organisation, public_id: UUID) -> Equipment:
    equipment = (
        Equipment.objects.select_related("clinic")
        .filter(public_id=public_id, clinic=clinic)
        .first()
    )
    if equipment is None:
        raise Http404
    return equipment


def get_test(equipment: Equipment, public_id: UUID) -> EquipmentTest:
    test = EquipmentTest.objects.filter(public_id=public_id, equipment=equipment).first()
    if test is None:
        raise Http404
    return test
