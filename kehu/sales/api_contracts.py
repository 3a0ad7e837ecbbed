"""API endpoints of contracts (合同): terms, status, renewal and attachments."""

from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from kehu.core.access import require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.errors import error_body, validation_fields
from kehu.core.models import RuleViolation
from kehu.core.permissions import Perm
from kehu.sales import selectors, services
from kehu.sales.api_common import (
    DAY_CURSOR,
    MAX_ID,
    api_field_names,
    keyset_page,
    not_found,
    visible_customer,
)
from kehu.sales.contracts import attachment_path
from kehu.sales.models import Contract, ContractAttachment
from kehu.sales.schemas import VersionIn
from kehu.sales.schemas_contracts import (
    AttachmentOut,
    ContractFilterQuery,
    ContractIn,
    ContractOut,
    ContractPage,
    ContractPatch,
    ContractStatusIn,
)
from kehu.sales.selectors import ContractFilters

router = Router(tags=["sales"])
_BINARY = {"schema": {"type": "string", "format": "binary"}}


def _contract(request: HttpRequest, contract_id: int, perm: str = Perm.VIEW_SALES) -> Contract:
    try:
        return selectors.contract_get(actor=request.user, pk=contract_id, perm=perm)
    except (Contract.DoesNotExist, OverflowError):
        raise not_found() from None


def _attachment(
    request: HttpRequest, attachment_id: int, perm: str = Perm.VIEW_SALES
) -> ContractAttachment:
    try:
        found = ContractAttachment.objects.filter(pk=attachment_id).first()
    except OverflowError:
        found = None
    if found is None:
        raise not_found()
    _contract(request, found.contract_id, perm)
    return found


def _fresh(contract: Contract) -> Contract:
    return Contract.objects.select_related("customer").get(pk=contract.pk)


@router.get("/contracts", response={200: ContractPage, **ERRORS}, summary="Contracts")
@require(Perm.VIEW_SALES)
def list_contracts(
    request: HttpRequest,
    filters: Query[ContractFilterQuery],
    cursor: str = Query(
        "", max_length=40, pattern=DAY_CURSOR, description="`next_cursor` of the previous page."
    ),
    limit: int = Query(50, ge=1, le=200),
) -> Any:
    """Contracts credited to people in your scope, soonest end first; keyset pages.
    `expired_not_renewed=true` lists contracts that ran out without a renewal."""
    contracts = selectors.contract_list(
        actor=request.user, filters=ContractFilters(**filters.dict())
    )
    return keyset_page(
        contracts.select_related("customer"),
        cursor=cursor,
        limit=limit,
        field="ends_on",
        kind="day",
    )


@router.post("/contracts", response={201: ContractOut, **WRITE_ERRORS}, summary="Add a contract")
@require(Perm.CHANGE_SALES)
def create_contract(request: HttpRequest, payload: ContractIn) -> Any:
    data = payload.dict()
    customer = visible_customer(request, data.pop("customer_id"))
    with api_field_names(owner="owner_id"):
        contract = services.contract_create(
            actor=request.user, customer=customer, owner=data.pop("owner_id"), **data
        )
    return Status(201, _fresh(contract))


@router.get(
    "/contracts/attachments/{attachment_id}/download",
    response={**ERRORS},
    summary="Download a contract's file",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file, always as an attachment (never shown inline).",
                "content": {
                    "application/pdf": _BINARY,
                    "image/png": _BINARY,
                    "image/jpeg": _BINARY,
                    "image/gif": _BINARY,
                },
            }
        }
    },
)
@require(Perm.VIEW_SALES)
def download_contract_attachment(request: HttpRequest, attachment_id: int) -> Any:
    attachment = _attachment(request, attachment_id)
    try:
        handle = open(attachment_path(attachment), "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError:
        raise not_found() from None
    services.attachment_opened(actor=request.user, attachment=attachment)
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@router.delete(
    "/contracts/attachments/{attachment_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Remove a contract's file",
)
@require(Perm.CHANGE_SALES)
def delete_contract_attachment(request: HttpRequest, attachment_id: int) -> Any:
    attachment = _attachment(request, attachment_id, Perm.CHANGE_SALES)
    services.attachment_remove(actor=request.user, attachment=attachment)
    return Status(204, None)


@router.get("/contracts/{contract_id}", response={200: ContractOut, **ERRORS}, summary="A contract")
@require(Perm.VIEW_SALES)
def get_contract(request: HttpRequest, contract_id: int) -> Any:
    return _fresh(_contract(request, contract_id))


@router.patch(
    "/contracts/{contract_id}",
    response={200: ContractOut, **WRITE_ERRORS},
    summary="Change a contract's terms",
)
@require(Perm.CHANGE_SALES)
def update_contract(request: HttpRequest, contract_id: int, payload: ContractPatch) -> Any:
    """A new end date (or reminder lead) makes the end reminder due again."""
    contract = _contract(request, contract_id, Perm.CHANGE_SALES)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    with api_field_names(owner="owner_id"):
        contract = services.contract_update(
            actor=request.user,
            contract=contract,
            expected_version=version,
            owner=data.pop("owner_id", None),
            **data,
        )
    return _fresh(contract)


@router.delete(
    "/contracts/{contract_id}", response={204: None, **WRITE_ERRORS}, summary="Delete a contract"
)
@require(Perm.DELETE_SALES)
def delete_contract(
    request: HttpRequest, contract_id: int, version: int = Query(..., ge=1, le=MAX_ID)
) -> Any:
    """Soft delete: restorable."""
    contract = _contract(request, contract_id, Perm.DELETE_SALES)
    services.contract_delete(actor=request.user, contract=contract, expected_version=version)
    return Status(204, None)


@router.post(
    "/contracts/{contract_id}/restore",
    response={200: ContractOut, **WRITE_ERRORS},
    summary="Bring back a deleted contract",
)
@require(Perm.DELETE_SALES)
def restore_contract(request: HttpRequest, contract_id: int) -> Any:
    try:
        contract = services.contract_restore(actor=request.user, pk=contract_id)
    except OverflowError:
        raise not_found() from None
    return _fresh(contract)


@router.post(
    "/contracts/{contract_id}/status",
    response={200: ContractOut, **WRITE_ERRORS},
    summary="Activate a draft or terminate a contract",
)
@require(Perm.CHANGE_SALES)
def set_contract_status(request: HttpRequest, contract_id: int, payload: ContractStatusIn) -> Any:
    """Terminating needs a reason; a move the status does not allow is 409 `status`."""
    contract = _contract(request, contract_id, Perm.CHANGE_SALES)
    contract = services.contract_set_status(
        actor=request.user,
        contract=contract,
        status=payload.status,
        expected_version=payload.version,
        reason=payload.reason,
    )
    return _fresh(contract)


@router.post(
    "/contracts/{contract_id}/renew",
    response={201: ContractOut, **WRITE_ERRORS},
    summary="Renew a contract",
)
@require(Perm.CHANGE_SALES)
def renew_contract(request: HttpRequest, contract_id: int, payload: VersionIn) -> Any:
    """A new active contract with the same terms for the same length, starting the day
    after this one ends; this one becomes *renewed*. Answers with the new contract."""
    contract = _contract(request, contract_id, Perm.CHANGE_SALES)
    successor = services.contract_renew(
        actor=request.user, contract=contract, expected_version=payload.version
    )
    return Status(201, _fresh(successor))


@router.get(
    "/contracts/{contract_id}/attachments",
    response={200: list[AttachmentOut], **ERRORS},
    summary="A contract's files",
)
@require(Perm.VIEW_SALES)
def list_contract_attachments(request: HttpRequest, contract_id: int) -> Any:
    contract = _contract(request, contract_id)
    return list(contract.attachments.all())


@router.post(
    "/contracts/{contract_id}/attachments",
    response={201: AttachmentOut, **WRITE_ERRORS},
    summary="Attach a PDF or image to a contract",
)
@require(Perm.CHANGE_SALES)
def add_contract_attachment(
    request: HttpRequest, contract_id: int, file: File[UploadedFile]
) -> Any:
    """multipart/form-data with `file`: a PDF, PNG, JPEG or GIF, recognised by its
    content (not its name), up to `KEHU_ATTACHMENT_MAX_MB` (413 beyond; 422 for any
    other type). Stored under a generated name; downloads are always attachments."""
    contract = _contract(request, contract_id, Perm.CHANGE_SALES)
    try:
        attachment = services.attachment_add(
            actor=request.user,
            contract=contract,
            name=file.name or "",
            stream=file,
            size=file.size,
        )
    except RuleViolation as exc:
        if exc.code == "too_large":
            fields = validation_fields(exc)
            return Status(413, error_body("too_large", fields["file"][0], fields))
        if exc.code == "file_type":
            fields = validation_fields(exc)
            return Status(422, error_body("invalid", fields["file"][0], fields))
        raise
    return Status(201, attachment)
