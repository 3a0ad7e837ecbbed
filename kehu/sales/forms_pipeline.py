"""Forms of the pipeline pages (board, opportunities, stages). They shape input; the
services check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.access import scoped
from kehu.core.forms import StyledForm, search_field
from kehu.core.permissions import Perm
from kehu.sales.choices import OpportunityStatus
from kehu.sales.models import Opportunity, PipelineStage
from kehu.sales.selectors import stage_list

ALL = "all"
STATUS_CHOICES = [
    (OpportunityStatus.OPEN.value, pgettext_lazy("opportunity status", "Open")),
    (OpportunityStatus.WON.value, _("Won")),
    (OpportunityStatus.LOST.value, _("Lost")),
    (ALL, _("All")),
]
CREATE_CHOICES = [
    ("", _("Only mark it won")),
    ("order", _("Also record an order of the expected amount")),
    ("contract", _("Also draft a contract of the expected amount")),
]


def colleagues(actor: Any, perm: str = Perm.VIEW_SALES) -> Any:
    """The people in the actor's scope (active), for owner filters and choices."""
    return scoped(actor, perm, get_user_model()).filter(is_active=True).order_by("name", "pk")


def _person(user: Any) -> str:
    return user.name or user.username


class BoardFilterForm(StyledForm):
    q = search_field(_("Title or customer (name, pinyin, initials, phone)"))
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = [(u.pk, _person(u)) for u in colleagues(actor)]
        self.fields["owner"].choices = [("", _("Anyone")), *people]  # type: ignore[attr-defined]


class OpportunityFilterForm(BoardFilterForm):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=STATUS_CHOICES, initial="open"
    )
    stage = forms.TypedChoiceField(label=_("Stage"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        stages = [(s.pk, s.name) for s in stage_list(active_only=False)]
        self.fields["stage"].choices = [("", _("Any")), *stages]  # type: ignore[attr-defined]


class OpportunityForm(StyledForm):
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Second warehouse fit-out")}),
    )
    amount = forms.CharField(
        label=_("Expected amount"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "12800.00"}),
    )
    stage = forms.TypedChoiceField(label=_("Stage"), coerce=int)
    expected_close = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        actor: Any,
        editing: bool = False,
        current_owner: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        people = [(u.pk, _person(u)) for u in colleagues(actor, Perm.CHANGE_SALES)]
        for person in (actor, current_owner):
            if person is not None and not any(pk == person.pk for pk, _n in people):
                people.insert(0, (person.pk, _person(person)))
        self.fields["owner"].choices = people  # type: ignore[attr-defined]
        self.fields["owner"].initial = actor.pk
        if editing:
            # A card changes stage on the board (audited as a move), not here.
            del self.fields["stage"]
            self.fields["version"].required = True
        else:
            stages = [(s.pk, f"{s.name} ({s.probability} %)") for s in stage_list()]
            self.fields["stage"].choices = stages  # type: ignore[attr-defined]
            del self.fields["version"]

    def opportunity_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "amount": data["amount"],
            "expected_close": data.get("expected_close"),
            "notes": data.get("notes", ""),
        }


def initial_for(opportunity: Opportunity) -> dict[str, Any]:
    return {
        "title": opportunity.title,
        "amount": opportunity.amount,
        "expected_close": opportunity.expected_close,
        "notes": opportunity.notes,
        "owner": opportunity.owner_id,
        "version": opportunity.version,
    }


class MoveForm(forms.Form):
    stage = forms.IntegerField(min_value=1)
    version = forms.IntegerField(min_value=1)


class CloseForm(forms.Form):
    status = forms.ChoiceField(choices=OpportunityStatus.choices)
    version = forms.IntegerField(min_value=1)
    reason = forms.CharField(required=False, max_length=200)
    create = forms.ChoiceField(required=False, choices=CREATE_CHOICES)


class StageForm(StyledForm):
    name_zh_hans = forms.CharField(
        label=_("Name (Simplified Chinese)"), required=False, max_length=100
    )
    name_zh_hant = forms.CharField(
        label=_("Name (Traditional Chinese)"), required=False, max_length=100
    )
    name_en = forms.CharField(label=_("Name (English)"), required=False, max_length=100)
    probability = forms.IntegerField(label=_("Win probability (%)"), min_value=0, max_value=100)
    position = forms.IntegerField(
        label=_("Position"),
        required=False,
        min_value=0,
        max_value=1000,
        help_text=_("Stages are shown from the lowest position to the highest."),
    )
    is_active = forms.BooleanField(
        label=_("Active (shown on the board and offered for new opportunities)"),
        required=False,
        initial=True,
    )

    def stage_fields(self) -> dict[str, Any]:
        fields = dict(self.cleaned_data)
        if fields.get("position") is None:
            fields.pop("position", None)
        return fields


def stage_initial(stage: PipelineStage) -> dict[str, Any]:
    names = ("name_zh_hans", "name_zh_hant", "name_en", "probability", "position", "is_active")
    return {name: getattr(stage, name) for name in names}
