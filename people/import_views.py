"""Learners and staff imported from a CSV file: a preview of every row (what it will create or
change, or why not), then the import, in two posts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from people import imports
from people.import_forms import ImportForm
from portfolio.access import posted, role_required, site_url
from portfolio.models import Role


def _page(request, form, *, outcome=None, sealed="", status=200) -> HttpResponse:
    kind = (outcome.kind if outcome else None) or form["kind"].value() or "learners"
    return render(
        request,
        "people/import.html",
        {
            "form": form,
            "outcome": outcome,
            "sealed": sealed,
            "kinds": {name: imports.KINDS[name] for name in imports.KINDS},
            "kind": kind,
        },
        status=status,
    )


@login_required
@role_required(Role.CENTRE_ADMIN)
def people_import(request: HttpRequest) -> HttpResponse:
    """Choose a file and see what each row would do; nothing is written."""
    form = ImportForm(*posted(request))
    if request.method != "POST" or not form.is_valid():
        return _page(request, form, status=400 if form.is_bound else 200)
    kind = form.cleaned_data["kind"]
    data = form.cleaned_data["file"].read()
    try:
        rows = imports.read(kind, data)
    except imports.FileProblem as problem:
        form.add_error("file", str(problem))
        return _page(request, form, status=400)
    outcome = imports.run(kind, rows, by=request.user, site_url=site_url(request), commit=False)
    sealed = "" if outcome.bad else imports.sealed(kind, data, request.user)
    return _page(
        request,
        ImportForm(initial={"kind": kind}),
        outcome=outcome,
        sealed=sealed,
        status=400 if outcome.bad else 200,
    )


@login_required
@require_POST
@role_required(Role.CENTRE_ADMIN)
def people_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import the file previewed: every row, or, if one is refused now, none."""
    form = ImportForm()
    try:
        kind, data = imports.unsealed(request.POST.get("sealed", ""), request.user)
        rows = imports.read(kind, data)
    except imports.FileProblem as problem:
        messages.error(request, str(problem))
        return _page(request, form, status=400)
    outcome = imports.run(kind, rows, by=request.user, site_url=site_url(request), commit=True)
    if not outcome.imported:
        return _page(request, ImportForm(initial={"kind": kind}), outcome=outcome, status=409)
    invited = f"; {outcome.invited} invited by e-mail" if outcome.invited else ""
    messages.success(request, f"Imported {len(outcome.rows)} rows{invited}.")
    return redirect("people")


@login_required
@role_required(Role.CENTRE_ADMIN)
def people_import_example(request: HttpRequest, kind: str) -> HttpResponse:
    """A CSV file with the columns of an import and one example row, to fill in."""
    response = HttpResponse(imports.example(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-import.csv"'
    return response
