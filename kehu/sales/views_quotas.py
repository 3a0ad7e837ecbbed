"""Pages of sales plans and quotas: attainment for a month, quarter or year (actual vs
target, new customers, rank among people, a progress bar), the trend of a person or a
team, and setting quotas. Thin: reads through selectors, writes through services."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.core.access import has_perm, require, scoped
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.sales import selectors, services
from kehu.sales.choices import QuotaPeriod
from kehu.sales.forms_quotas import PeriodForm, QuotaEditForm, QuotaForm, edit_initial
from kehu.sales.models import Quota
from kehu.sales.money import cents
from kehu.sales.quotas import period_end, period_start

TREND_MONTHS = 12


def _today() -> date:
    return timezone.localdate(timezone=selectors.company_zone())


def _period_label(period: str, starts_on: date) -> str:
    if period == QuotaPeriod.MONTH:
        return starts_on.strftime("%Y-%m")
    if period == QuotaPeriod.QUARTER:
        return _("%(year)d Q%(quarter)d") % {
            "year": starts_on.year,
            "quarter": (starts_on.month - 1) // 3 + 1,
        }
    return str(starts_on.year)


def _page_url(period: str, starts_on: date, trend: str = "") -> str:
    query = {"period": period, "day": starts_on.isoformat()}
    if trend:
        query["trend"] = trend
    return f"{reverse('sales:quotas')}?{urlencode(query)}"


def _subject_key(quota: Quota) -> str:
    return f"user:{quota.user_id}" if quota.user_id else f"team:{quota.team_id}"


def _trend_subject(request: HttpRequest, wanted: str, rows: list[Any]) -> tuple[str, str] | None:
    """The person or team whose trend is drawn: one the reader may see, else a default
    (the table's first row, or the reader)."""
    actor: Any = request.user
    kind, _sep, raw = (wanted or "").partition(":")
    if raw.isdigit():
        pk = int(raw)
        if kind == "user":
            person = scoped(actor, Perm.VIEW_SALES, get_user_model()).filter(pk=pk).first()
            if person is not None:
                return f"user:{pk}", person.name or person.username
        if kind == "team":
            quota = selectors.quota_list(actor=actor).filter(team_id=pk, user__isnull=True).first()
            if quota is not None:
                return f"team:{pk}", str(quota.team)
    if rows:
        return _subject_key(rows[0].quota), rows[0].label
    if has_perm(actor, Perm.CHANGE_SALES):
        return f"user:{actor.pk}", actor.name or actor.username
    return None


def _trend(request: HttpRequest, key: str) -> dict[str, Any]:
    """Monthly net sales of the last twelve months, with the monthly target where set."""
    kind, _sep, raw = key.partition(":")
    pk = int(raw)
    user_id, team_id = (pk, None) if kind == "user" else (None, pk)
    points = selectors.sales_trend(
        user_id=user_id, team_id=team_id, months=TREND_MONTHS, today=_today()
    )
    quotas = selectors.quota_list(actor=request.user).filter(
        period=QuotaPeriod.MONTH, starts_on__gte=points[0][0], starts_on__lte=points[-1][0]
    )
    quotas = quotas.filter(user_id=pk) if user_id else quotas.filter(team_id=pk, user__isnull=True)
    targets = {q.starts_on: q.amount for q in quotas}
    return {
        "labels": [month.strftime("%Y-%m") for month, _amount in points],
        "actual": [str(cents(amount)) for _month, amount in points],
        "target": [str(cents(targets[m])) if m in targets else None for m, _a in points],
        "names": {"actual": _("Net sales"), "target": _("Monthly target")},
    }


@require(Perm.VIEW_SALES)
def quota_page(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None)
    data: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    period = data.get("period") or QuotaPeriod.MONTH
    starts_on = period_start(period, data.get("day") or _today())
    rows = selectors.quota_attainment(actor=request.user, period=period, starts_on=starts_on)
    subject = _trend_subject(request, data.get("trend", ""), rows)
    managed = set(
        scoped(request.user, Perm.MANAGE_QUOTAS, Quota)
        .filter(pk__in=[r.quota.pk for r in rows])
        .values_list("pk", flat=True)
    )
    table = [
        {
            "row": row,
            "key": _subject_key(row.quota),
            "bar": min(row.percent or Decimal(0), Decimal(100)),
            "can_manage": row.quota.pk in managed,
        }
        for row in rows
    ]
    trend_key = subject[0] if subject else ""
    trend = _trend(request, trend_key) if subject else None
    return render(
        request,
        "sales/quotas/quota_page.html",
        {
            "form": form,
            "period": period,
            "starts_on": starts_on,
            "period_label": _period_label(period, starts_on),
            "periods": QuotaPeriod.choices,
            "previous_url": _page_url(
                period, period_start(period, starts_on - timedelta(days=1)), trend_key
            ),
            "next_url": _page_url(period, period_end(period, starts_on), trend_key),
            "current_url": _page_url(period, period_start(period, _today()), trend_key),
            "table": table,
            "subject": subject,
            "trend_key": trend_key,
            "trend": trend,
            "trend_rows": list(zip(trend["labels"], trend["actual"], trend["target"], strict=True))
            if trend
            else [],
            "can_manage": has_perm(request.user, Perm.MANAGE_QUOTAS),
        },
    )


def _form_page(request: HttpRequest, form: Any, title: str, **extra: Any) -> HttpResponse:
    conflict = extra.get("conflict", "")
    return render(
        request,
        "sales/quotas/quota_form.html",
        {"form": form, "title": title, **extra},
        status=409 if conflict else 400 if form.errors else 200,
    )


@require(Perm.MANAGE_QUOTAS)
def quota_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {
        "period": request.GET.get("period") or QuotaPeriod.MONTH,
        "starts_on": request.GET.get("day") or period_start(QuotaPeriod.MONTH, _today()),
    }
    raw_user, raw_team = request.GET.get("user", ""), request.GET.get("team", "")
    if raw_team.isdigit():
        initial.update(target="team", team=int(raw_team))
    elif raw_user.isdigit():
        initial["user"] = int(raw_user)
    form = QuotaForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            quota = services.quota_create(actor=request.user, **form.quota_fields())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Quota saved."))
            return redirect(_page_url(quota.period, quota.starts_on))
    return _form_page(
        request, form, _("Set a quota"), cancel_url=reverse("sales:quotas"), creating=True
    )


def _quota(request: HttpRequest, pk: int) -> Quota:
    found = scoped(request.user, Perm.MANAGE_QUOTAS, Quota).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _whom(quota: Quota) -> str:
    if quota.user is not None:
        return quota.user.name or quota.user.username
    return str(quota.team) if quota.team_id else ""


@require(Perm.MANAGE_QUOTAS)
def quota_edit(request: HttpRequest, pk: int) -> HttpResponse:
    quota = _quota(request, pk)
    form = QuotaEditForm(request.POST or None, initial=edit_initial(quota))
    conflict = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.quota_update(
                actor=request.user,
                quota=quota,
                expected_version=form.cleaned_data["version"],
                **form.quota_fields(),
            )
        except ConflictError:
            conflict = _("Someone else changed this quota — reload it and apply your change again.")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Quota saved."))
            return redirect(_page_url(quota.period, quota.starts_on))
    return _form_page(
        request,
        form,
        _("Edit the quota"),
        quota=quota,
        whom=_whom(quota),
        period_label=_period_label(quota.period, quota.starts_on),
        conflict=conflict,
        cancel_url=_page_url(quota.period, quota.starts_on),
    )


@require(Perm.MANAGE_QUOTAS)
@require_POST
def quota_delete(request: HttpRequest, pk: int) -> HttpResponse:
    quota = _quota(request, pk)
    raw = request.POST.get("version", "")
    try:
        services.quota_delete(
            actor=request.user, quota=quota, expected_version=int(raw) if raw.isdigit() else 0
        )
    except ConflictError:
        messages.error(
            request, _("Someone else changed this quota — reload it and apply your change again.")
        )
    else:
        messages.success(request, _("Quota deleted."))
    return redirect(_page_url(quota.period, quota.starts_on))
