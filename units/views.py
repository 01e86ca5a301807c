from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from units.combination import rules_in_words
from units.models import Criterion, LearningOutcome, Qualification, Unit


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    return render(request, "units/unit_list.html", {"units": Unit.objects.all()})


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The unit as specified; every signed-in person may read it."""
    unit = get_object_or_404(
        Unit.objects.prefetch_related(
            "contexts",
            Prefetch(
                "outcomes",
                LearningOutcome.objects.prefetch_related(
                    Prefetch("criteria", Criterion.objects.order_by("position"))
                ),
            ),
        ),
        pk=pk,
    )
    return render(request, "units/unit_detail.html", {"unit": unit})


@login_required
def qualification_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "units/qualification_list.html",
        {"qualifications": Qualification.objects.all()},
    )


@login_required
def qualification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The qualification as specified, with its rule of combination; every signed-in person may
    read it."""
    qualification = get_object_or_404(Qualification.objects.with_structure(), pk=pk)
    return render(
        request,
        "units/qualification_detail.html",
        {"qualification": qualification, "rules": rules_in_words(qualification)},
    )
