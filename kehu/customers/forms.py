"""Forms of the customer pages. They shape input; the services check it (one set of rules
for pages, API and imports), and their ValidationError lands back on the form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import StyledForm
from kehu.customers.choices import Channel, Gender, Kind, Size, Source, Stage, Tier
from kehu.customers.models import Customer
from kehu.customers.services import EDITABLE

# The fields the customer form edits, in the order shown: the service's, but the referrer.
FIELDS = tuple(name for name in EDITABLE if name != "referrer")
TAG_SEPARATORS = re.compile(r"[,，]")


def split_tags(text: str) -> list[str]:
    """ "VIP, 展会2026，老客户" → ["VIP", "展会2026", "老客户"] (ASCII and full-width commas)."""
    return [part.strip() for part in TAG_SEPARATORS.split(text or "") if part.strip()]


def _label(name: str) -> Any:
    field: Any = Customer._meta.get_field(name)
    return capfirst(field.verbose_name)


def _text(name: str, **kwargs: Any) -> forms.CharField:
    """A text field labelled like the model field; the services enforce the limits, the
    browser is only told them (``maxlength``)."""
    max_length = getattr(Customer._meta.get_field(name), "max_length", None)
    widget = kwargs.pop("widget", None) or forms.TextInput()
    if max_length:
        widget.attrs.setdefault("maxlength", str(max_length))
    return forms.CharField(label=_label(name), required=False, widget=widget, **kwargs)


def _choice(name: str, choices: Any, **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=_label(name), choices=choices, **kwargs)


class CustomerForm(StyledForm):
    kind = _choice("kind", Kind.choices, initial=Kind.INDIVIDUAL)
    name = forms.CharField(label=_label("name"), widget=forms.TextInput(attrs={"maxlength": "200"}))
    company = _text("company")
    credit_code = _text("credit_code")
    industry = _text("industry")
    size = _choice("size", Size.choices, required=False)
    mobile = _text(
        "mobile",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    phone = _text("phone", widget=forms.TextInput(attrs={"inputmode": "tel"}))
    email = _text("email", widget=forms.EmailInput())
    wechat = _text("wechat")
    province = _text("province")
    city = _text("city")
    district = _text("district")
    street = _text("street")
    address_text = _text("address_text", widget=forms.Textarea(attrs={"rows": 2}))
    birthday = forms.DateField(
        label=_label("birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    gender = _choice("gender", Gender.choices, required=False)
    source = _choice("source", Source.choices, required=False)
    notes = _text("notes", widget=forms.Textarea(attrs={"rows": 4}))
    stage = _choice("stage", Stage.choices, initial=Stage.PROSPECT)
    tier = _choice("tier", Tier.choices, initial=Tier.ORDINARY)
    tier_reason = _text("tier_reason")
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separate tags with commas."),
        widget=forms.TextInput(attrs={"maxlength": "1000"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["version"].required = True
        else:
            del self.fields["version"]

    def customer_fields(self) -> dict[str, Any]:
        """The cleaned values for services.customer_create / customer_update."""
        return {name: self.cleaned_data[name] for name in FIELDS}

    def tag_names(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags", ""))


def initial_for(customer: Customer) -> dict[str, Any]:
    """The edit form's starting values: the stored customer, its tags and its version."""
    initial = {name: getattr(customer, name) for name in FIELDS}
    initial["tags"] = ", ".join(tag.name for tag in customer.tags.all())
    initial["version"] = customer.version
    return initial


def _any(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("Any")), *((value, label) for value, label in choices if value)]


class CustomerFilterForm(StyledForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name, pinyin, initials, phone, email, WeChat or tag"),
            }
        ),
    )
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=_any(Stage.choices))
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=_any(Tier.choices))
    source = forms.ChoiceField(label=_("Source"), required=False, choices=_any(Source.choices))
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    city = forms.CharField(label=_("City"), required=False, max_length=50)
    stale = forms.BooleanField(label=_("To verify only"), required=False)


class PoolSearchForm(StyledForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name, pinyin, initials, phone, email or WeChat"),
            }
        ),
    )


class ReleaseForm(StyledForm):
    reason = forms.CharField(
        label=_("Why does the customer go back to the pool?"),
        max_length=200,
        widget=forms.TextInput(attrs={"maxlength": "200"}),
    )


class InteractionForm(StyledForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    summary = forms.CharField(
        label=_("What happened"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)
    next_step = forms.CharField(label=_("Next step"), max_length=200, required=False)
    next_step_due = forms.DateField(
        label=_("Next step due"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
