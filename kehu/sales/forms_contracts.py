"""Forms of the contract pages. They shape input; the services check it (period, money,
lengths, moves between statuses)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import StyledForm, search_field, with_any
from kehu.sales.choices import ContractStatus, RenewalType
from kehu.sales.contracts import EDITABLE, TEXT_FIELDS
from kehu.sales.models import Contract

DATE_FORMAT = "%Y-%m-%d"
# Characters people type around an amount that are not part of it.
MONEY_NOISE = str.maketrans("", "", ",，¥￥ \u00a0")


def _label(name: str) -> Any:
    field: Any = Contract._meta.get_field(name)
    return capfirst(field.verbose_name)


def _date(name: str, *, required: bool) -> forms.DateField:
    return forms.DateField(
        label=_label(name),
        required=required,
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
    )


def _terms(name: str) -> forms.CharField:
    limit, _multiline = TEXT_FIELDS[name]
    return forms.CharField(
        label=_label(name),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": str(limit)}),
    )


class ContractForm(StyledForm):
    """Create (``creating=True``: number and status too) or edit a contract."""

    number = forms.CharField(
        label=_label("number"),
        required=False,
        max_length=64,
        help_text=_("Leave empty to have one given (HT-…)."),
        widget=forms.TextInput(attrs={"maxlength": "64", "autocomplete": "off"}),
    )
    title = forms.CharField(
        label=_label("title"),
        widget=forms.TextInput(
            attrs={"maxlength": "200", "placeholder": _("e.g. Annual supply agreement 2026")}
        ),
    )
    parties = _terms("parties")
    signed_on = _date("signed_on", required=False)
    starts_on = _date("starts_on", required=True)
    ends_on = _date("ends_on", required=True)
    value = forms.CharField(
        label=_label("value"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "120000.00"}),
    )
    payment_terms = _terms("payment_terms")
    delivery_terms = _terms("delivery_terms")
    transaction_rules = _terms("transaction_rules")
    default_liability = _terms("default_liability")
    renewal = forms.ChoiceField(
        label=_label("renewal"),
        choices=RenewalType.choices,
        initial=RenewalType.MANUAL,
        widget=forms.RadioSelect,
    )
    remind_days = forms.IntegerField(
        label=_label("remind_days"),
        min_value=0,
        max_value=365,
        initial=30,
        help_text=_("The owner is reminded this many days before the end date."),
    )
    status = forms.ChoiceField(
        label=_label("status"),
        choices=[
            (ContractStatus.DRAFT, ContractStatus.DRAFT.label),
            (ContractStatus.ACTIVE, ContractStatus.ACTIVE.label),
        ],
        initial=ContractStatus.DRAFT,
    )
    owner = forms.TypedChoiceField(
        label=_label("owner"), required=False, coerce=int, empty_value=None
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, creating: bool = True, owners: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["renewal"].widget.attrs["class"] = "form-check-input"
        choices = [(u.pk, u.get_full_name() or u.username) for u in owners]
        if len(choices) > 1:
            empty = _("Me") if creating else _("Keep the current owner")
            owner: Any = self.fields["owner"]
            owner.choices = [("", empty), *choices]
        else:
            del self.fields["owner"]
        if creating:
            del self.fields["version"]
        else:
            self.fields["version"].required = True
            del self.fields["number"]
            del self.fields["status"]

    def clean_value(self) -> str:
        return (self.cleaned_data.get("value") or "").translate(MONEY_NOISE)

    def contract_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {name: data[name] for name in EDITABLE}
        for name in TEXT_FIELDS:
            fields[name] = fields[name] or ""
        if "owner" in self.fields and data.get("owner"):
            fields["owner"] = data["owner"]
        return fields

    def create_fields(self) -> dict[str, Any]:
        return {
            **self.contract_fields(),
            "number": self.cleaned_data["number"],
            "status": self.cleaned_data["status"],
        }


def initial_for(contract: Contract) -> dict[str, Any]:
    initial = {name: getattr(contract, name) for name in EDITABLE}
    initial["version"] = contract.version
    initial["owner"] = contract.owner_id
    return initial


class ContractFilterForm(StyledForm):
    q = search_field(_("Contract number, title or customer"))
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=with_any(ContractStatus.choices)
    )
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    ending_before = forms.DateField(
        label=_("Ending on or before"),
        required=False,
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
    )
    expired = forms.BooleanField(label=_("Expired, not renewed"), required=False)

    def __init__(self, *args: Any, owners: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner: Any = self.fields["owner"]
        owner.choices = [
            ("", _("Anyone")),
            *((u.pk, u.get_full_name() or u.username) for u in owners),
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (ContractStatus.ACTIVE, ContractStatus.ACTIVE.label),
            (ContractStatus.TERMINATED, ContractStatus.TERMINATED.label),
        ]
    )
    version = forms.IntegerField(min_value=1)
    reason = forms.CharField(required=False, max_length=2000)


class VersionForm(forms.Form):
    version = forms.IntegerField(min_value=1)


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(
            attrs={
                "class": "form-control",
                "accept": ".pdf,.png,.jpg,.jpeg,.gif,application/pdf,image/png,image/jpeg,image/gif",
            }
        ),
    )


class CustomerPickForm(StyledForm):
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
