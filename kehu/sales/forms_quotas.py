"""Forms of the quotas pages. They shape input; the services check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team
from kehu.core.access import scope_of
from kehu.core.forms import StyledForm
from kehu.core.permissions import Scope
from kehu.sales.choices import QuotaPeriod
from kehu.sales.models import Quota
from kehu.sales.selectors import people_for_quotas

PERSON, TEAM = "person", "team"


def teams_for_quotas(actor: Any) -> QuerySet[Team]:
    """The teams the actor may set a quota for (the same rule as the service's)."""
    scope = scope_of(actor)
    teams = Team.objects.filter(is_active=True)
    if scope == Scope.ALL:
        return teams
    if scope == Scope.DEPARTMENT and actor.department_id:
        return teams.filter(department_id=actor.department_id)
    if scope == Scope.TEAM and actor.team_id:
        return teams.filter(pk=actor.team_id)
    return teams.none()


class PeriodForm(forms.Form):
    """Which period the attainment table shows: its kind and any day inside it."""

    period = forms.ChoiceField(label=_("Period"), required=False, choices=QuotaPeriod.choices)
    day = forms.DateField(
        label=_("Containing the day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    trend = forms.CharField(required=False, max_length=30, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].widget.attrs["class"] = "form-select"
        self.fields["day"].widget.attrs["class"] = "form-control"


class QuotaForm(StyledForm):
    target = forms.ChoiceField(
        label=_("For"),
        choices=[(PERSON, _("A person")), (TEAM, _("A team"))],
        initial=PERSON,
        widget=forms.RadioSelect,
    )
    user = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    period = forms.ChoiceField(label=_("Period"), choices=QuotaPeriod.choices)
    starts_on = forms.DateField(
        label=_("Starts on"),
        help_text=_("Any day of the period: the quota starts on the period's first day."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    amount = forms.CharField(
        label=_("Sales target"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "100000.00"}),
    )
    new_customers = forms.IntegerField(
        label=_("New customers target"), required=False, min_value=0, max_value=10**6
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=200)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].widget.attrs["class"] = "form-check-input"
        people = [(u.pk, u.name or u.username) for u in people_for_quotas(actor=actor)]
        teams = [(t.pk, t.name) for t in teams_for_quotas(actor)]
        self.fields["user"].choices = [("", "—"), *people]  # type: ignore[attr-defined]
        self.fields["team"].choices = [("", "—"), *teams]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target = data.get("target")
        if target == PERSON and not data.get("user"):
            self.add_error("user", _("Choose the person."))
        if target == TEAM and not data.get("team"):
            self.add_error("team", _("Choose the team."))
        return data

    def quota_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        person = data["target"] == PERSON
        return {
            "user": data["user"] if person else None,
            "team": None if person else data["team"],
            "period": data["period"],
            "starts_on": data["starts_on"],
            "amount": data["amount"],
            "new_customers": data.get("new_customers"),
            "notes": data.get("notes", ""),
        }


class QuotaEditForm(StyledForm):
    amount = QuotaForm.base_fields["amount"]
    new_customers = QuotaForm.base_fields["new_customers"]
    notes = QuotaForm.base_fields["notes"]
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def quota_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "amount": data["amount"],
            "new_customers": data.get("new_customers"),
            "notes": data.get("notes", ""),
        }


def edit_initial(quota: Quota) -> dict[str, Any]:
    return {
        "amount": quota.amount,
        "new_customers": quota.new_customers,
        "notes": quota.notes,
        "version": quota.version,
    }
