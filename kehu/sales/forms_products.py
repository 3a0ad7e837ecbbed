"""Forms of the catalogue pages. They shape input; the services check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import StyledForm
from kehu.sales.forms_orders import percent_text, plain, rate_from_percent
from kehu.sales.models import Product


class ProductFilterForm(StyledForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Code, name or category")}
        ),
    )
    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Active only")), ("no", _("Inactive only"))],
    )


class ProductForm(StyledForm):
    code = forms.CharField(label=_("Code"), widget=forms.TextInput(attrs={"maxlength": "50"}))
    name_zh_hans = forms.CharField(
        label=_("Name (Simplified Chinese)"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": "100"}),
    )
    name_zh_hant = forms.CharField(
        label=_("Name (Traditional Chinese)"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": "100"}),
    )
    name_en = forms.CharField(
        label=_("Name (English)"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": "100"}),
    )
    category = forms.CharField(
        label=_("Category"), required=False, widget=forms.TextInput(attrs={"maxlength": "100"})
    )
    unit = forms.CharField(
        label=_("Unit"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": "20", "placeholder": _("e.g. box, hour")}),
    )
    list_price = forms.CharField(
        label=_("List price"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    tax_rate = forms.CharField(
        label=_("Tax rate (%)"),
        required=False,
        help_text=_("In percent: 13 for 13 % VAT, 0 for none."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["version"].required = True
        else:
            del self.fields["version"]

    def product_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            name: data.get(name) or ""
            for name in ("code", "name_zh_hans", "name_zh_hant", "name_en", "category", "unit")
        }
        fields["list_price"] = data["list_price"]
        fields["tax_rate"] = rate_from_percent(data.get("tax_rate") or "") or "0"
        fields["is_active"] = bool(data.get("is_active"))
        return fields


def product_initial(product: Product) -> dict[str, Any]:
    return {
        "code": product.code,
        "name_zh_hans": product.name_zh_hans,
        "name_zh_hant": product.name_zh_hant,
        "name_en": product.name_en,
        "category": product.category,
        "unit": product.unit,
        "list_price": plain(product.list_price),
        "tax_rate": percent_text(product.tax_rate),
        "is_active": product.is_active,
        "version": product.version,
    }
