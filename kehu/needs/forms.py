"""Forms of the needs pages. They shape input; the services check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import StyledForm
from kehu.needs.choices import (
    DecisionFactor,
    NeedDomain,
    NeedNature,
    NeedSource,
    NeedStatus,
    Priority,
)
from kehu.needs.models import Need
from kehu.needs.selectors import NO_FACTOR
from kehu.needs.services import EDITABLE


def _label(name: str) -> Any:
    field: Any = Need._meta.get_field(name)
    return capfirst(field.verbose_name)


class NeedForm(StyledForm):
    title = forms.CharField(
        label=_label("title"),
        widget=forms.TextInput(
            attrs={"maxlength": "200", "placeholder": _("e.g. Wants delivery within 48 hours")}
        ),
    )
    description = forms.CharField(
        label=_label("description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": "10000"}),
    )
    domain = forms.ChoiceField(
        label=_label("domain"), choices=NeedDomain.choices, widget=forms.RadioSelect
    )
    nature = forms.ChoiceField(
        label=_label("nature"), choices=NeedNature.choices, widget=forms.RadioSelect
    )
    factor = forms.ChoiceField(
        label=_label("factor"), choices=DecisionFactor.choices, required=False
    )
    source = forms.ChoiceField(label=_label("source"), choices=NeedSource.choices)
    priority = forms.ChoiceField(
        label=_label("priority"), choices=Priority.choices, initial=Priority.MEDIUM
    )
    status = forms.ChoiceField(
        label=_label("status"), choices=NeedStatus.choices, initial=NeedStatus.OPEN
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("domain", "nature"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
        if editing:
            self.fields["version"].required = True
        else:
            del self.fields["version"]

    def need_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in EDITABLE}


def initial_for(need: Need) -> dict[str, Any]:
    initial = {name: getattr(need, name) for name in EDITABLE}
    initial["version"] = need.version
    return initial


def _any(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("Any")), *((value, label) for value, label in choices if value)]


class NeedFilterForm(StyledForm):
    q = forms.CharField(
        label=_("Customer"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Customer name, pinyin, initials, phone or tag"),
            }
        ),
    )
    domain = forms.ChoiceField(
        label=_("Production or living"), required=False, choices=_any(NeedDomain.choices)
    )
    nature = forms.ChoiceField(
        label=_("Material or spiritual"), required=False, choices=_any(NeedNature.choices)
    )
    factor = forms.ChoiceField(
        label=_("Decision factor"),
        required=False,
        choices=[
            *_any(DecisionFactor.choices),
            (NO_FACTOR, _("Not about a decision factor")),
        ],
    )
    source = forms.ChoiceField(
        label=_("Learnt from"), required=False, choices=_any(NeedSource.choices)
    )
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=_any(Priority.choices)
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_any(NeedStatus.choices))


class NeedStatusForm(forms.Form):
    status = forms.ChoiceField(choices=NeedStatus.choices)
    version = forms.IntegerField(min_value=1)
