"""The API's shared parts: authentication, the error shape, pagination."""

import logging
import re
from datetime import date, datetime
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie
from pydantic import BeforeValidator, ConfigDict, Strict

from kehu import __version__
from kehu.core import selectors
from kehu.core.access import AccessDenied, require
from kehu.core.errors import default_error, error_body, validation_fields
from kehu.core.models import ConflictError, RuleViolation
from kehu.core.permissions import PUBLIC, Perm

log = logging.getLogger("kehu.api")


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorOut(Schema):
    error: ErrorDetail


class SessionAuth(APIKeyCookie):
    """The browser's session cookie; unsafe methods also need the CSRF token."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        # Only a request that really rides on a signed-in session needs the CSRF check;
        # anything else is simply not authenticated by this scheme (401, not 403).
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            request.kehu_api = True  # type: ignore[attr-defined]
            return user
        return None


def _respond(api: NinjaAPI, request: HttpRequest, status: int, body: dict) -> HttpResponse:
    return api.create_response(request, body, status=status)


def install_error_handlers(api: NinjaAPI) -> None:
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            # ninja puts where the value came from first (body, query, path…), then the
            # schema's argument name: drop those two, keep the field path itself.
            loc = [str(part) for part in error.get("loc", ())]
            if loc and loc[0] in ("body", "query", "path", "form", "file", "header", "cookie"):
                loc = loc[1:]
                if len(loc) > 1 and loc[0] in ("payload", "filters", "params"):
                    loc = loc[1:]
            fields.setdefault(".".join(loc) or "__all__", []).append(str(error.get("msg", "")))
        code, message = default_error(422)
        return _respond(api, request, 422, error_body(code, message, fields))

    def on_django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        code, message = default_error(422)
        return _respond(api, request, 422, error_body(code, message, validation_fields(exc)))

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code, message = default_error(exc.status_code)
        if exc.status_code == 403 and "CSRF" in str(exc):
            code, message = "csrf_failed", _("The CSRF token is missing or wrong. Reload the page.")
        elif exc.status_code == 400 and "parse" in str(exc).lower():
            code, message = "malformed_body", _("The request body is not valid JSON.")
        elif exc.status_code == 404 and str(exc).endswith("_id"):
            field = str(exc)
            return _respond(
                api,
                request,
                404,
                error_body(code, message, {field: [_("No such record.")]}),
            )
        elif exc.status_code not in (401, 403, 404, 405, 413, 429, 500):
            message = str(exc) or message
        return _respond(api, request, exc.status_code, error_body(code, message))

    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        code, message = default_error(401)
        return _respond(api, request, 401, error_body(code, message))

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        code, message = default_error(404)
        return _respond(api, request, 404, error_body(code, message))

    def on_rule_violation(request: HttpRequest, exc: RuleViolation) -> HttpResponse:
        fields = validation_fields(exc)
        message = " ".join(m for msgs in fields.values() for m in msgs)
        return _respond(api, request, 409, error_body(exc.code, message, fields))

    def on_conflict(request: HttpRequest, exc: ConflictError) -> HttpResponse:
        code, message = default_error(409)
        return _respond(api, request, 409, error_body(code, message))

    def on_permission(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        code, message = (
            default_error(401) if not request.user.is_authenticated else default_error(404)
        )
        status = 401 if not request.user.is_authenticated else 404
        return _respond(api, request, status, error_body(code, message))

    def on_malformed_upload(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return _respond(
            api,
            request,
            400,
            error_body("malformed_body", _("The upload is not valid multipart/form-data."), {}),
        )

    def on_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API error on %s %s", request.method, request.path)
        code, message = default_error(500)
        return _respond(api, request, 500, error_body(code, message))

    api.add_exception_handler(Exception, on_error)
    api.add_exception_handler(NinjaValidationError, on_validation)
    api.add_exception_handler(DjangoValidationError, on_django_validation)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(ConflictError, on_conflict)
    api.add_exception_handler(RuleViolation, on_rule_violation)
    api.add_exception_handler(PermissionDenied, on_permission)
    api.add_exception_handler(MultiPartParserError, on_malformed_upload)
    api.add_exception_handler(AccessDenied, on_not_found)


class StrictSchema(Schema):
    """Input shapes: no silent coercion (0 is not false, "1" is not 1)."""

    model_config = ConfigDict(strict=True, extra="forbid")


def _json_integer(value: Any) -> Any:
    # JSON has one number type: 7.0 is the integer 7; true and "7" are not integers.
    if isinstance(value, bool | str):
        raise ValueError("Input should be a valid integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _iso_date(value: Any) -> Any:
    if not isinstance(value, str | date) or isinstance(value, datetime):
        raise ValueError("Input should be a date in the form YYYY-MM-DD")
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("Input should be a date in the form YYYY-MM-DD")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def _iso_datetime(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("Input should be a date and time in ISO 8601 form")
    return value


JsonDateTime = Annotated[datetime, Strict(False), BeforeValidator(_iso_datetime)]
# In a strict body a date still arrives as a JSON string: parse it, but only YYYY-MM-DD.
JsonDate = Annotated[date, Strict(False), BeforeValidator(_iso_date)]


# Every operation documents the error statuses it can answer with.
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 413, 422)}
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: ErrorOut}


class Page(Schema):
    """Pagination facts that come with every list."""

    count: int
    limit: int
    offset: int


# --- The kernel's own endpoints ------------------------------------------------------


router = Router(tags=["core"])


class HealthOut(Schema):
    status: str
    database: str
    version: str


@router.get("/health", auth=None, response={200: HealthOut, 503: HealthOut}, summary="Health check")
@require(PUBLIC)
def health(request: HttpRequest) -> Any:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return Status(200, {"status": "ok", "database": "ok", "version": __version__})
    except Exception:
        log.exception("health check: database unreachable")
        return Status(503, {"status": "error", "database": "unreachable", "version": __version__})


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_label: str
    changes: dict
    row_count: int | None
    ip: str | None
    user_agent: str
    seq: int | None
    hash: str


class AuditPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[AuditEventOut]


@router.get(
    "/audit-events",
    response={200: AuditPage, **ERRORS},
    summary="Browse the audit log",
)
@require(Perm.VIEW_AUDIT)
def audit_events(
    request: HttpRequest,
    action: str = Query("", max_length=64),
    actor: str = Query("", max_length=100),
    object_type: str = Query("", max_length=64),
    object_id: str = Query("", max_length=64),
    date_from: IsoDate | None = None,
    date_to: IsoDate | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> Any:
    events = selectors.audit_event_list(
        actor=request.user,
        action=action,
        actor_name=actor,
        object_type=object_type,
        object_id=object_id,
        date_from=date_from,
        date_to=date_to,
    )
    return {
        "count": events.count(),
        "limit": limit,
        "offset": offset,
        "items": list(events[offset : offset + limit]),
    }
