"""Middleware of the shared kernel."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kehu.core.request_context import RequestInfo, reset_request_info, set_request_info


def client_ip(request: HttpRequest) -> str | None:
    """The client's address. Behind N trusted proxies (KEHU_PROXY_COUNT) it is the N-th
    X-Forwarded-For entry from the right: what the client itself sent cannot spoof it."""
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "KEHU_PROXY_COUNT", 0)
    if proxies > 0:
        entries = [
            e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()
        ]
        if len(entries) >= proxies:
            candidate = entries[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


class RequestContextMiddleware:
    """Remember the client's address and user agent for audit events of this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_request_info(
            RequestInfo(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))
        )
        try:
            return self.get_response(request)
        finally:
            reset_request_info(token)


class BodySizeLimitMiddleware:
    """Refuse a request whose declared body is larger than allowed: 413, before reading it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit and length > limit and not self._is_upload(request):
            from kehu.core.errors import error_response

            return error_response(request, 413, "too_large", too_large_message(limit))
        return self.get_response(request)

    @staticmethod
    def _is_upload(request: HttpRequest) -> bool:
        # Multipart uploads stream to disk; their own limit is checked by the upload view.
        return request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")


def too_large_message(limit: int) -> str:
    from django.template.defaultfilters import filesizeformat
    from django.utils.translation import gettext as _

    return _("The request is too large (the limit is %(limit)s).") % {
        "limit": filesizeformat(limit)
    }


class ApiErrorShapeMiddleware:
    """Give the API's bare framework answers (405 from the router) the one error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from kehu.core.errors import default_error, error_response

            code, message = default_error(405)
            shaped = error_response(request, 405, code, message)
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
