"""Middleware of the shared kernel."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from kehu.core.request_context import RequestInfo, reset_request_info, set_request_info


def client_ip(request: HttpRequest) -> str | None:
    """The client's address; X-Forwarded-For is believed only behind a trusted proxy."""
    candidate = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "KEHU_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            candidate = forwarded.split(",")[0].strip()
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
