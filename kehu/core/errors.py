"""One shape for errors, in pages and in the API: {"error": {code, message, fields}}."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

log = logging.getLogger("kehu.errors")


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.META.get(
        "HTTP_ACCEPT", ""
    )


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    fields: dict[str, list[str]] | None = None,
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            error_body(code, message, fields),
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(
        request,
        "core/error.html",
        {"status": status, "code": code, "message": message},
        status=status,
    )


def validation_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


def json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


STATUS_CODES = {
    400: ("bad_request", lambda: _("The request could not be understood.")),
    401: ("unauthenticated", lambda: _("Sign in or send a valid API token.")),
    403: ("forbidden", lambda: _("This request was refused.")),
    404: ("not_found", lambda: _("Not found.")),
    405: ("method_not_allowed", lambda: _("This method is not allowed here.")),
    409: (
        "conflict",
        lambda: _("Someone else changed this record — reload it and apply your change again."),
    ),
    413: ("too_large", lambda: _("The request is too large.")),
    422: ("invalid", lambda: _("Some fields are not valid.")),
    429: ("throttled", lambda: _("Too many attempts. Try again later.")),
    500: ("server_error", lambda: _("Something went wrong on our side. It has been logged.")),
}


def default_error(status: int) -> tuple[str, str]:
    code, message = STATUS_CODES.get(status, ("error", lambda: _("The request failed.")))
    return code, str(message())
