"""The question bank pages of the region administrator: list, create, edit, retire/restore."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from telederm.accounts import access as accounts_access
from telederm.accounts.access import me
from telederm.audit.services import Actor
from telederm.lib.forms import add_validation_error
from telederm.training import access, exam, questions
from telederm.training.forms import QuestionForm
from telederm.training.models import Question, Topic


def _upload(request: HttpRequest, form: QuestionForm) -> bytes | None:
    upload = form.cleaned_data.get("image")
    if not upload:
        return None
    return bytes(upload.read())


def list_view(request: HttpRequest) -> HttpResponse:
    user = me(request)
    accounts_access.require_region_admin(user)
    regions = list(accounts_access.administered_regions(user))
    topic = request.GET.get("topic", "")
    show = request.GET.get("show", "active")
    bank = Question.objects.filter(region__in=regions).select_related("region")
    if topic in Topic.values:
        bank = bank.filter(topic=topic)
    if show != "all":
        bank = bank.filter(is_active=show != "retired")
    needed = exam.rules().questions
    counts = [
        {"region": region, "active": exam.active_question_count(region), "needed": needed}
        for region in regions
    ]
    return render(
        request,
        "training/questions.html",
        {
            "questions": bank.prefetch_related("options"),
            "counts": counts,
            "topics": Topic.choices,
            "topic": topic,
            "show": show,
        },
    )


def new_view(request: HttpRequest) -> HttpResponse:
    user = me(request)
    accounts_access.require_region_admin(user)
    region = accounts_access.administered_regions(user).first()
    if region is None:
        raise Http404
    form = QuestionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            question = questions.create_question(
                region=region,
                data=form.data_for_service(),
                image=_upload(request, form),
                by=Actor.from_request(request),
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("The question has been added to the bank."))
            return redirect("training:question_edit", question_id=question.public_id)
    return render(request, "training/question_form.html", {"form": form, "question": None})


def edit_view(request: HttpRequest, question_id: UUID) -> HttpResponse:
    question = access.get_question_for(me(request), question_id)
    if request.method == "POST":
        form = QuestionForm(request.POST, request.FILES, question=question)
        if form.is_valid():
            try:
                questions.update_question(
                    question=question,
                    data=form.data_for_service(),
                    image=_upload(request, form),
                    remove_image=bool(form.cleaned_data.get("remove_image")),
                    by=Actor.from_request(request),
                )
            except ValidationError as exc:
                add_validation_error(form, exc)
            else:
                messages.success(request, _("The changes have been saved."))
                return redirect("training:question_edit", question_id=question.public_id)
    else:
        form = QuestionForm(question=question)
    return render(request, "training/question_form.html", {"form": form, "question": question})


@require_POST
def retire_view(request: HttpRequest, question_id: UUID) -> HttpResponse:
    question = access.get_question_for(me(request), question_id)
    restore = request.POST.get("restore") == "1"
    questions.set_active(question=question, active=restore, by=Actor.from_request(request))
    messages.success(
        request,
        _("The question is back in the bank.")
        if restore
        else _("The question has been retired; it is no longer drawn for exams."),
    )
    return redirect("training:question_edit", question_id=question.public_id)


@require_GET
def image_view(request: HttpRequest, question_id: UUID) -> FileResponse:
    question = access.get_question_for(me(request), question_id)
    if not question.image:
        raise Http404
    response = FileResponse(question.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
