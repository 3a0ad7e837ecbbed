"""Pages of contracts (合同): the list (with the expiring and the expired-not-renewed
views), record and edit a contract, its page with the terms, the renewal chain and the
attachments, and the actions (activate, terminate, renew, delete). Thin: reads through
selectors, writes through services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from kehu.accounts import selectors as account_selectors
from kehu.core.access import has_perm, require, scoped
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.core.views import CappedPaginator, is_htmx
from kehu.customers.models import Customer
from kehu.customers.selectors import CustomerFilters, customer_get, customer_list
from kehu.sales import contracts, selectors, services
from kehu.sales.choices import ContractStatus
from kehu.sales.forms_contracts import (
    AttachmentForm,
    ContractFilterForm,
    ContractForm,
    CustomerPickForm,
    StatusForm,
    VersionForm,
    initial_for,
)
from kehu.sales.models import Contract, ContractAttachment
from kehu.sales.selectors import ContractFilters

PAGE_SIZE = 50
RENEWABLE = (ContractStatus.ACTIVE, ContractStatus.EXPIRING, ContractStatus.EXPIRED)
TERMINABLE = (ContractStatus.DRAFT, ContractStatus.ACTIVE, ContractStatus.EXPIRING)
# Room for the form fields and the multipart framing around an attachment.
UPLOAD_OVERHEAD = 64 * 1024


def _conflict_message() -> str:
    return _("Someone else changed this record — reload it and apply your change again.")


def _contract(request: HttpRequest, pk: int, perm: str = Perm.VIEW_SALES) -> Contract:
    """The contract if the user may see (or change) it; otherwise 404."""
    try:
        return selectors.contract_get(actor=request.user, pk=pk, perm=perm)
    except Contract.DoesNotExist:
        raise Http404 from None


def _detail_url(contract: Contract) -> str:
    return reverse("sales:contract", args=[contract.pk])


def _version(request: HttpRequest) -> int:
    form = VersionForm(request.POST)
    return form.cleaned_data["version"] if form.is_valid() else 0


def _owners(request: HttpRequest) -> Any:
    """Colleagues a contract may be credited to by this user (the service checks again)."""
    return scoped(request.user, Perm.CHANGE_SALES, get_user_model()).filter(is_active=True)[:200]


# --- The list -------------------------------------------------------------------------


@require(Perm.VIEW_SALES)
def contract_list(request: HttpRequest) -> HttpResponse:
    owners = account_selectors.user_list(actor=request.user, include_inactive=False)[:500]
    form = ContractFilterForm(request.GET or None, owners=owners)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    filters = ContractFilters(
        q=data.get("q") or "",
        owner_id=data.get("owner"),
        status=data.get("status") or "",
        ending_before=data.get("ending_before"),
        expired_not_renewed=bool(data.get("expired")),
    )
    contracts = selectors.contract_list(actor=request.user, filters=filters).select_related(
        "customer", "owner"
    )
    page = CappedPaginator(contracts, PAGE_SIZE, allow_empty_first_page=True).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    partial = is_htmx(request) and request.headers.get("HX-History-Restore-Request") != "true"
    template = "sales/contracts/list.html#results" if partial else "sales/contracts/list.html"
    response = render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "view": "expired" if filters.expired_not_renewed else filters.status or "all",
            "can_change": has_perm(request.user, Perm.CHANGE_SALES),
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- Record and edit ------------------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    form: ContractForm,
    *,
    customer: Customer,
    title: str,
    cancel_url: str,
    contract: Contract | None = None,
    conflict: str = "",
) -> HttpResponse:
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "sales/contracts/form.html",
        {
            "form": form,
            "customer": customer,
            "contract": contract,
            "title": title,
            "cancel_url": cancel_url,
            "conflict": conflict,
        },
        status=status,
    )


def _pick_customer(request: HttpRequest) -> HttpResponse:
    form = CustomerPickForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    customers = (
        customer_list(actor=request.user, filters=CustomerFilters(q=q))[:20] if q.strip() else []
    )
    return render(
        request,
        "sales/contracts/pick_customer.html",
        {"form": form, "customers": customers, "searched": bool(q.strip())},
    )


@require(Perm.CHANGE_SALES)
def contract_create(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("customer", "")
    if not raw:
        return _pick_customer(request)
    try:
        customer = customer_get(actor=request.user, pk=int(raw))
    except (ValueError, Customer.DoesNotExist):
        raise Http404 from None
    form = ContractForm(request.POST or None, owners=_owners(request))
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(
                actor=request.user, customer=customer, **form.create_fields()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, _("Contract recorded: %(number)s") % {"number": contract.number}
            )
            return redirect(_detail_url(contract))
    return _form_page(
        request,
        form,
        customer=customer,
        title=_("New contract"),
        cancel_url=reverse("customers:detail", args=[customer.pk]),
    )


@require(Perm.CHANGE_SALES)
def contract_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk, Perm.CHANGE_SALES)
    form = ContractForm(
        request.POST or None,
        initial=initial_for(contract),
        creating=False,
        owners=_owners(request),
    )
    conflict = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(
                actor=request.user,
                contract=contract,
                expected_version=form.cleaned_data["version"],
                **form.contract_fields(),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ConflictError:
            conflict = _conflict_message()
        else:
            messages.success(request, _("Contract saved: %(number)s") % {"number": contract.number})
            return redirect(_detail_url(contract))
    return _form_page(
        request,
        form,
        customer=contract.customer,
        contract=contract,
        title=_("Edit contract %(number)s") % {"number": contract.number},
        cancel_url=_detail_url(contract),
        conflict=conflict,
    )


# --- The contract's page ------------------------------------------------------------------


def _visible_or_none(request: HttpRequest, pk: int | None) -> Contract | None:
    if pk is None:
        return None
    try:
        return selectors.contract_get(actor=request.user, pk=pk)
    except Contract.DoesNotExist:
        return None


@require(Perm.VIEW_SALES)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk)
    can_change = (
        has_perm(request.user, Perm.CHANGE_SALES)
        and scoped(request.user, Perm.CHANGE_SALES, Contract).filter(pk=contract.pk).exists()
    )
    can_delete = (
        has_perm(request.user, Perm.DELETE_SALES)
        and scoped(request.user, Perm.DELETE_SALES, Contract).filter(pk=contract.pk).exists()
    )
    successor_id = (
        Contract.objects.filter(renewed_from=contract).values_list("pk", flat=True).first()
    )
    return render(
        request,
        "sales/contracts/detail.html",
        {
            "contract": contract,
            "predecessor": _visible_or_none(request, contract.renewed_from_id),
            "successor": _visible_or_none(request, successor_id),
            "attachments": list(contract.attachments.select_related("uploaded_by")),
            "attach_form": AttachmentForm(),
            "max_size": filesizeformat(contracts.attachment_max_bytes()),
            "can_change": can_change,
            "can_delete": can_delete,
            "can_activate": can_change and contract.status == ContractStatus.DRAFT,
            "can_terminate": can_change and contract.status in TERMINABLE,
            "can_renew": can_change and contract.status in RENEWABLE and successor_id is None,
            "purge_days": settings.KEHU_PURGE_AFTER_DAYS,
        },
    )


# --- Actions --------------------------------------------------------------------------------


def _service_error(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@require(Perm.CHANGE_SALES)
@require_POST
def contract_status(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk, Perm.CHANGE_SALES)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the statuses."))
        return redirect(_detail_url(contract))
    try:
        contract = services.contract_set_status(
            actor=request.user,
            contract=contract,
            status=form.cleaned_data["status"],
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except ConflictError:
        messages.error(request, _conflict_message())
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        messages.success(
            request,
            _("%(number)s: %(status)s")
            % {"number": contract.number, "status": contract.get_status_display()},
        )
    return redirect(_detail_url(contract))


@require(Perm.CHANGE_SALES)
@require_POST
def contract_renew(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk, Perm.CHANGE_SALES)
    try:
        successor = services.contract_renew(
            actor=request.user, contract=contract, expected_version=_version(request)
        )
    except ConflictError:
        messages.error(request, _conflict_message())
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        messages.success(
            request,
            _("%(old)s renewed as %(new)s.") % {"old": contract.number, "new": successor.number},
        )
        return redirect(_detail_url(successor))
    return redirect(_detail_url(contract))


@require(Perm.DELETE_SALES)
@require_POST
def contract_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk, Perm.DELETE_SALES)
    try:
        services.contract_delete(
            actor=request.user, contract=contract, expected_version=_version(request)
        )
    except ConflictError:
        messages.error(request, _conflict_message())
        return redirect(_detail_url(contract))
    messages.success(request, _("Contract deleted: %(number)s") % {"number": contract.number})
    return redirect("sales:contracts")


# --- Attachments ------------------------------------------------------------------------


class _AttachmentLimit(FileUploadHandler):
    """Stops reading an uploaded file as soon as it passes the attachment limit, so an
    oversized file is never written to a temporary file in full."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.request.kehu_upload_too_large = True  # type: ignore[union-attr]
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large() -> str:
    return _("The file is larger than %(size)s.") % {
        "size": filesizeformat(contracts.attachment_max_bytes())
    }


@require(Perm.CHANGE_SALES)
@csrf_exempt  # checked below, once the upload limit is in place (Django's documented way)
@require_POST
def contract_attach(request: HttpRequest, pk: int) -> HttpResponse:
    limit = contracts.attachment_max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + UPLOAD_OVERHEAD:
        # Refused before the body is read: nothing of it reaches the disk.
        _contract(request, pk, Perm.CHANGE_SALES)
        messages.error(request, _too_large())
        return redirect(reverse("sales:contract", args=[pk]) + "#attachments")
    request.upload_handlers.insert(0, _AttachmentLimit(request, limit))
    return _attach(request, pk)


@csrf_protect
def _attach(request: HttpRequest, pk: int) -> HttpResponse:
    contract = _contract(request, pk, Perm.CHANGE_SALES)
    back = _detail_url(contract) + "#attachments"
    form = AttachmentForm(request.POST, request.FILES)  # reads the body (if not yet read)
    if getattr(request, "kehu_upload_too_large", False):
        messages.error(request, _too_large())
        return redirect(back)
    if not form.is_valid():
        messages.error(request, _("Choose a file to attach."))
        return redirect(back)
    upload = form.cleaned_data["file"]
    try:
        with upload.open("rb") as stream:
            attachment = services.attachment_add(
                actor=request.user,
                contract=contract,
                name=upload.name,
                stream=stream,
                size=upload.size,
            )
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        messages.success(request, _("File attached: %(name)s") % {"name": attachment.original_name})
    return redirect(back)


def _attachment(contract: Contract, attachment_pk: int) -> ContractAttachment:
    found = contract.attachments.filter(pk=attachment_pk).first()
    if found is None:
        raise Http404
    return found


@require(Perm.VIEW_SALES)
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponseBase:
    contract = _contract(request, pk)
    attachment = _attachment(contract, attachment_pk)
    path: Path = contracts.attachment_path(attachment)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except OSError:
        raise Http404 from None
    services.attachment_opened(actor=request.user, attachment=attachment)
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    # Never rendered or run by the browser, whatever the file holds.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require(Perm.CHANGE_SALES)
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    contract = _contract(request, pk, Perm.CHANGE_SALES)
    attachment = _attachment(contract, attachment_pk)
    services.attachment_remove(actor=request.user, attachment=attachment)
    messages.success(request, _("File removed: %(name)s") % {"name": attachment.original_name})
    return redirect(_detail_url(contract) + "#attachments")
