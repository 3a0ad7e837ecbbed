"""API endpoints around the customer list: saved filters and exports."""

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from ninja import Router, Status
from ninja.errors import HttpError

from kehu.core.access import AccessDenied, require
from kehu.core.api import ERRORS, WRITE_ERRORS
from kehu.core.permissions import Perm
from kehu.customers import exports, saved_filters
from kehu.customers.models import SavedFilter
from kehu.customers.schemas_lists import ExportIn, SavedFilterIn, SavedFilterOut
from kehu.customers.selectors import CustomerFilters

router = Router(tags=["customers"])


@router.get(
    "/saved-filters",
    response={200: list[SavedFilterOut], **ERRORS},
    summary="My saved filters of the customer list",
)
@require(Perm.VIEW_CUSTOMERS)
def list_saved_filters(request: HttpRequest) -> Any:
    return list(saved_filters.saved_filter_list(actor=request.user))


@router.post(
    "/saved-filters",
    response={200: SavedFilterOut, 201: SavedFilterOut, **WRITE_ERRORS},
    summary="Save a filter of the customer list (replaces one of the same name)",
)
@require(Perm.VIEW_CUSTOMERS)
def save_saved_filter(request: HttpRequest, payload: SavedFilterIn) -> Any:
    """201 when a new filter was created, 200 when one of the same name was replaced."""
    try:
        saved, created = saved_filters.saved_filter_save(
            actor=request.user, name=payload.name, query=payload.query_string
        )
    except ValidationError as exc:
        if not hasattr(exc, "error_dict") or "query" not in exc.error_dict:
            raise
        errors = dict(exc.message_dict)
        errors["query_string"] = errors.pop("query")
        raise ValidationError(errors) from None
    return Status(201 if created else 200, saved)


@router.delete(
    "/saved-filters/{filter_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete one of my saved filters",
)
@require(Perm.VIEW_CUSTOMERS)
def delete_saved_filter(request: HttpRequest, filter_id: int) -> Any:
    try:
        saved = saved_filters.saved_filter_get(actor=request.user, pk=filter_id)
    except SavedFilter.DoesNotExist:
        raise HttpError(404, "not found") from None
    saved_filters.saved_filter_delete(actor=request.user, saved_filter=saved)
    return Status(204, None)


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/customers/export",
    response={**WRITE_ERRORS},
    summary="Export the filtered customer list to CSV or XLSX",
    openapi_extra={
        "responses": {
            "200": {
                "description": (
                    "The file, as an attachment. `X-Kehu-Row-Count` gives the number of "
                    "customers in it."
                ),
                "content": {
                    "text/csv": _BINARY,
                    exports.CONTENT_TYPES["xlsx"]: _BINARY,
                },
            }
        }
    },
)
@require(Perm.EXPORT_CUSTOMERS)
def export_customers(request: HttpRequest, payload: ExportIn) -> Any:
    """The same scope, filters and masking as the list page; audited as `customer.export`
    with the row count. CSV is UTF-8 with a byte-order mark; cells that a spreadsheet
    would run as a formula are neutralised."""
    data = payload.filters.dict()
    for name in ("stage", "tier", "source"):
        data[name] = data[name] or ""
    try:
        result = exports.customer_export(
            actor=request.user,
            filters=CustomerFilters(**data),
            columns=payload.columns,
            fmt=payload.format,
            reveal=payload.reveal,
        )
    except AccessDenied:
        raise HttpError(404, "not found") from None
    handle = open(result.path, "rb")  # noqa: SIM115 - FileResponse closes it
    os.unlink(result.path)
    response = FileResponse(
        handle, as_attachment=True, filename=result.filename, content_type=result.content_type
    )
    response["X-Kehu-Row-Count"] = str(result.rows)
    return response
