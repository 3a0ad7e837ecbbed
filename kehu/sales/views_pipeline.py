"""Pages of the pipeline: the board (kanban) where cards are dragged between stages and
onto Won / Lost, the list of opportunities, an opportunity's page, and the stages
(administrators). Thin: reads through selectors, writes through services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.access import has_perm, require, scoped
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import Perm
from kehu.core.views import is_htmx
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters, customer_get, customer_list
from kehu.sales import selectors, services
from kehu.sales.choices import OpportunityStatus
from kehu.sales.forms_pipeline import (
    ALL,
    CREATE_CHOICES,
    BoardFilterForm,
    CloseForm,
    MoveForm,
    OpportunityFilterForm,
    OpportunityForm,
    StageForm,
    initial_for,
    stage_initial,
)
from kehu.sales.models import Opportunity, PipelineStage
from kehu.sales.selectors import OpportunityFilters

PAGE_SIZE = 50


def _conflict_message() -> str:
    return _("Someone else changed this opportunity — the page shows it as it is now.")


def _opportunity(request: HttpRequest, pk: int, perm: str = Perm.VIEW_SALES) -> Opportunity:
    try:
        return selectors.opportunity_get(actor=request.user, pk=pk, perm=perm)
    except Opportunity.DoesNotExist:
        raise Http404 from None


def _back(request: HttpRequest, fallback: str) -> str:
    """Where to go after a POST: a local ``next`` or the fallback."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _partial(request: HttpRequest) -> bool:
    return is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"


def _url_or_empty(name: str, *args: Any) -> str:
    """A sales page another part of the app provides, if it exists yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# --- The board ------------------------------------------------------------------------


def _board_context(request: HttpRequest) -> dict[str, Any]:
    form = BoardFilterForm(request.GET or None, actor=request.user)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    filters = OpportunityFilters(q=data.get("q", ""), owner_id=data.get("owner"))
    columns = selectors.pipeline_board(actor=request.user, filters=filters)
    zero = Decimal("0.00")
    return {
        "form": form,
        "columns": columns,
        "stages": [column.stage for column in columns],
        "total_count": sum(c.count for c in columns),
        "total_amount": sum((c.amount for c in columns), zero),
        "total_weighted": sum((c.weighted for c in columns), zero),
        "can_change": has_perm(request.user, Perm.CHANGE_SALES),
        "create_choices": CREATE_CHOICES,
        "can_manage_stages": has_perm(request.user, Perm.MANAGE_CATALOGUE),
        "board_url": reverse("sales:pipeline")
        + (f"?{request.GET.urlencode()}" if request.GET else ""),
    }


@require(Perm.VIEW_SALES)
def board(request: HttpRequest) -> HttpResponse:
    context = _board_context(request)
    partial = _partial(request)
    template = "sales/pipeline/board.html#board" if partial else "sales/pipeline/board.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@require(Perm.CHANGE_SALES)
@require_POST
def opportunity_move(request: HttpRequest, pk: int) -> HttpResponse:
    """A card dropped on another stage (from the board's script, answered in JSON), or the
    card's stage select (a plain form, answered with the board)."""
    opportunity = _opportunity(request, pk, Perm.CHANGE_SALES)
    form = MoveForm(request.POST)
    status, message = 200, ""
    if not form.is_valid():
        status, message = 400, _("Choose a stage to move the opportunity to.")
    else:
        try:
            moved = services.opportunity_move(
                actor=request.user,
                opportunity=opportunity,
                stage=form.cleaned_data["stage"],
                expected_version=form.cleaned_data["version"],
            )
        except ConflictError:
            status, message = 409, _conflict_message()
        except RuleViolation as exc:
            status, message = 409, " ".join(exc.messages)
        except ValidationError as exc:
            status, message = 400, " ".join(exc.messages)
        else:
            message = _("%(title)s moved to %(stage)s.") % {
                "title": moved.title,
                "stage": moved.stage.name,
            }
    if _wants_json(request):
        body: dict[str, Any] = {"ok": status == 200, "message": message}
        if status == 200:
            body["version"] = moved.version
        return JsonResponse(body, status=status)
    if status == 200:
        messages.success(request, message)
        return redirect(_back(request, reverse("sales:pipeline")))
    # Without script: the board again, with the reason the move did not happen.
    context = _board_context(request)
    context["alert"] = message
    return render(request, "sales/pipeline/board.html", context, status=status)


@require(Perm.CHANGE_SALES)
@require_POST
def opportunity_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Won (optionally recording the order or drafting the contract), lost with a reason,
    or reopened."""
    opportunity = _opportunity(request, pk, Perm.CHANGE_SALES)
    back = _back(request, reverse("sales:opportunity", args=[pk]))
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose won, lost or reopen, and try again."))
        return redirect(back)
    data = form.cleaned_data
    try:
        if data["status"] == OpportunityStatus.WON:
            closed = services.opportunity_win(
                actor=request.user,
                opportunity=opportunity,
                expected_version=data["version"],
                create=data.get("create") or "",
            )
        else:
            closed = services.opportunity_close(
                actor=request.user,
                opportunity=opportunity,
                status=data["status"],
                expected_version=data["version"],
                reason=data.get("reason") or "",
            )
    except ConflictError:
        messages.error(request, _conflict_message())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _close_message(closed))
    return redirect(back)


def _close_message(opportunity: Opportunity) -> str:
    names = {"title": opportunity.title}
    if opportunity.status == OpportunityStatus.LOST:
        return _("%(title)s marked lost.") % names
    if opportunity.status == OpportunityStatus.OPEN:
        return _("%(title)s reopened.") % names
    if opportunity.order_id and opportunity.order:
        return _("%(title)s won; order %(number)s recorded.") % {
            **names,
            "number": opportunity.order.number,
        }
    if opportunity.contract_id and opportunity.contract:
        return _("%(title)s won; contract %(number)s drafted.") % {
            **names,
            "number": opportunity.contract.number,
        }
    return _("%(title)s marked won.") % names


# --- The list and an opportunity's page -----------------------------------------------


@require(Perm.VIEW_SALES)
def opportunity_list(request: HttpRequest) -> HttpResponse:
    form = OpportunityFilterForm(request.GET or None, actor=request.user)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    status = data.get("status") or OpportunityStatus.OPEN
    filters = OpportunityFilters(
        q=data.get("q", ""),
        owner_id=data.get("owner"),
        stage_id=data.get("stage"),
        status="" if status == ALL else status,
    )
    opportunities = selectors.opportunity_list(actor=request.user, filters=filters)
    page = Paginator(opportunities, PAGE_SIZE, allow_empty_first_page=True).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    partial = _partial(request)
    template = (
        "sales/pipeline/opportunity_list.html#results"
        if partial
        else "sales/pipeline/opportunity_list.html"
    )
    response = render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "status": status,
            "can_change": has_perm(request.user, Perm.CHANGE_SALES),
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


def _choose_customer(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:100]
    found = list(customer_list(actor=request.user, filters=CustomerFilters(q=q))[:20]) if q else []
    return render(
        request,
        "sales/pipeline/choose_customer.html",
        {"q": q, "customers": found, "searched": bool(q)},
    )


def _customer(request: HttpRequest, pk: int) -> Customer:
    try:
        return customer_get(actor=request.user, pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def _form_page(
    request: HttpRequest, form: OpportunityForm, *, customer: Customer, title: str, **extra: Any
) -> HttpResponse:
    conflict = extra.get("conflict", "")
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "sales/pipeline/opportunity_form.html",
        {"form": form, "customer": customer, "title": title, **extra},
        status=status,
    )


@require(Perm.CHANGE_SALES)
def opportunity_create(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("customer") or request.POST.get("customer") or ""
    if not raw.isdigit():
        return _choose_customer(request)
    customer = _customer(request, int(raw))
    form = OpportunityForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            opportunity = services.opportunity_create(
                actor=request.user,
                customer=customer,
                stage=form.cleaned_data["stage"],
                owner=form.cleaned_data["owner"],
                **form.opportunity_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Opportunity recorded: %(title)s") % {"title": opportunity.title}
            )
            return redirect("sales:opportunity", pk=opportunity.pk)
    return _form_page(
        request,
        form,
        customer=customer,
        title=_("New opportunity"),
        cancel_url=reverse("customers:detail", args=[customer.pk]) + "#sales",
    )


@require(Perm.VIEW_SALES)
def opportunity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk)
    can_change = (
        scoped(request.user, Perm.CHANGE_SALES, Opportunity).filter(pk=opportunity.pk).exists()
    )
    return render(
        request,
        "sales/pipeline/opportunity_detail.html",
        {
            "opportunity": opportunity,
            "can_change": can_change,
            "stages": list(selectors.stage_list()),
            "create_choices": CREATE_CHOICES,
            "order_url": _url_or_empty("sales:order", opportunity.order_id)
            if opportunity.order_id
            else "",
            "contract_url": _url_or_empty("sales:contract", opportunity.contract_id)
            if opportunity.contract_id
            else "",
            "customer_visible": scoped(request.user, Perm.VIEW_CUSTOMERS, Customer)
            .filter(pk=opportunity.customer_id)
            .exists(),
        },
    )


@require(Perm.CHANGE_SALES)
def opportunity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    opportunity = _opportunity(request, pk, Perm.CHANGE_SALES)
    form = OpportunityForm(
        request.POST or None,
        actor=request.user,
        editing=True,
        current_owner=opportunity.owner,
        initial=initial_for(opportunity),
    )
    conflict = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.opportunity_update(
                actor=request.user,
                opportunity=opportunity,
                expected_version=form.cleaned_data["version"],
                # Only a change of owner is checked against who may be credited.
                owner=None
                if form.cleaned_data["owner"] == opportunity.owner_id
                else form.cleaned_data["owner"],
                **form.opportunity_fields(),
            )
        except ConflictError:
            conflict = _(
                "Someone else changed this opportunity — reload it and apply your change again."
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Opportunity saved: %(title)s") % {"title": opportunity.title}
            )
            return redirect("sales:opportunity", pk=opportunity.pk)
    return _form_page(
        request,
        form,
        customer=opportunity.customer,
        title=_("Edit the opportunity"),
        conflict=conflict,
        cancel_url=reverse("sales:opportunity", args=[opportunity.pk]),
    )


# --- Stages (administrators) ------------------------------------------------------------


@require(Perm.MANAGE_CATALOGUE)
def stage_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sales/pipeline/stage_list.html",
        {"stages": list(selectors.stage_list(active_only=False))},
    )


def _stage_page(request: HttpRequest, form: StageForm, title: str) -> HttpResponse:
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": title,
            "form_id": "stage-form",
            "cancel_url": reverse("sales:stages"),
        },
        status=400 if form.errors else 200,
    )


@require(Perm.MANAGE_CATALOGUE)
def stage_create(request: HttpRequest) -> HttpResponse:
    form = StageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            stage = services.stage_create(actor=request.user, **form.stage_fields())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Stage added: %(name)s") % {"name": stage.name})
            return redirect("sales:stages")
    return _stage_page(request, form, _("Add a pipeline stage"))


@require(Perm.MANAGE_CATALOGUE)
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(PipelineStage, pk=pk)
    form = StageForm(request.POST or None, initial=stage_initial(stage))
    if request.method == "POST" and form.is_valid():
        try:
            stage = services.stage_update(actor=request.user, stage=stage, **form.stage_fields())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Stage saved: %(name)s") % {"name": stage.name})
            return redirect("sales:stages")
    return _stage_page(request, form, _("Edit a pipeline stage"))
