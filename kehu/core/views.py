"""Pages of the shared kernel: home, language switch, audit log, error pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from kehu.core import selectors
from kehu.core.access import require
from kehu.core.errors import default_error, error_response
from kehu.core.forms import AuditFilterForm
from kehu.core.home import home_cards
from kehu.core.permissions import AUTHENTICATED, Perm


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@require(AUTHENTICATED)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"cards": home_cards(request.user)})


@require(Perm.VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_event_list(
        actor=request.user,
        action=filters.get("action", ""),
        actor_name=filters.get("actor", ""),
        object_type=filters.get("object_type", ""),
        object_id=filters.get("object_id", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = Paginator(events, 50, allow_empty_first_page=True).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "core/audit_list.html#results" if is_htmx(request) else "core/audit_list.html"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})


def _error_page(request: HttpRequest, status: int) -> HttpResponse:
    code, message = default_error(status)
    return error_response(request, status, code, message)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        from django.conf import settings

        from kehu.core.middleware import too_large_message

        return error_response(
            request, 413, "too_large", too_large_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        )
    return _error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Not visible and not permitted look the same: 404.
    return _error_page(request, 404)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    code, message = default_error(500)
    try:
        return error_response(request, 500, code, message)
    except Exception:  # the error page itself failed: plain text, never a trace
        return HttpResponse(message, status=500, content_type="text/plain; charset=utf-8")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        403,
        "csrf_failed",
        _("Your form was missing its security token or it expired. Reload the page and try again."),
    )


class CappedPaginator(Paginator):
    """A paginator that stops counting at ``cap`` rows.

    Counting every match of a broad search over a million customers costs more than the
    page itself; past the cap the page says "more than N" and the reader narrows the search.
    """

    def __init__(self, object_list: Any, per_page: int, *, cap: int = 10_000, **kwargs: Any):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap
