"""Forms of the customer pages. They shape input; the services check it (one set of rules
for pages, API and imports), and their ValidationError lands back on the form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import StyledForm, search_field, with_any
from kehu.customers import filtering
from kehu.customers.choices import Channel, Gender, Kind, Size, Source, Stage, Tier
from kehu.customers.masking import MASKED_FIELDS, masked_values
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
    id_number = _text("id_number", widget=forms.TextInput(attrs={"autocomplete": "off"}))
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

    def __init__(
        self,
        *args: Any,
        editing: bool = False,
        may_reveal: bool = True,
        custom_fields: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["version"].required = True
        else:
            del self.fields["version"]
        # Custody: a reader who may not reveal the masked fields sees them masked on the
        # edit form, cannot change them, and saving leaves them as they are.
        self.read_only = set(MASKED_FIELDS) if editing and not may_reveal else set()
        for name in self.read_only:
            field = self.fields[name]
            field.disabled = True
            field.help_text = _("Masked: your role may not see or change this field.")
        self._add_custom_fields(custom_fields)

    # --- Custom fields (defined by administrators): one form field "custom_<key>" each.

    def _add_custom_fields(self, definitions: list[Any] | None) -> None:
        from kehu.customers.custom_fields import active_fields

        self.custom_definitions = active_fields() if definitions is None else definitions
        for definition in self.custom_definitions:
            name = CUSTOM_PREFIX + definition.key
            field = _custom_form_field(definition, self.initial.get(name))
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
            self.fields[name] = field

    def custom_bound_fields(self) -> list[Any]:
        return [self[CUSTOM_PREFIX + d.key] for d in self.custom_definitions]

    def custom_values(self) -> dict[str, Any]:
        """The custom values for the services, by key ("" clears one)."""
        return {
            d.key: self.cleaned_data.get(CUSTOM_PREFIX + d.key) for d in self.custom_definitions
        }

    def field_for_error(self, name: str) -> str | None:
        """The services name custom fields "custom.<key>" (kehu.core.forms.apply_errors)."""
        if name.startswith("custom.") and CUSTOM_PREFIX + name[7:] in self.fields:
            return CUSTOM_PREFIX + name[7:]
        return None

    def customer_fields(self) -> dict[str, Any]:
        """The cleaned values for services.customer_create / customer_update (without the
        read-only masked fields, which stay as they are)."""
        return {name: self.cleaned_data[name] for name in FIELDS if name not in self.read_only}

    def tag_names(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags", ""))


CUSTOM_PREFIX = "custom_"


def _custom_form_field(definition: Any, current: Any) -> forms.Field:
    """The form field for one custom field, labelled in the reader's language."""
    from kehu.customers.choices import FieldKind
    from kehu.customers.custom_fields import TEXT_MAX_LENGTH

    common: dict[str, Any] = {"label": definition.label, "required": definition.required}
    if definition.kind == FieldKind.DATE:
        return forms.DateField(
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **common,
        )
    if definition.kind == FieldKind.CHOICE:
        choices = [("", "—"), *((str(c), str(c)) for c in definition.choices or [])]
        if current not in (None, "") and str(current) not in {c for c, _label in choices}:
            # A value whose choice was removed since: kept until someone changes it.
            choices.append((str(current), str(current)))
        return forms.ChoiceField(choices=choices, **common)
    if definition.kind == FieldKind.NUMBER:
        return forms.CharField(
            widget=forms.TextInput(attrs={"inputmode": "decimal", "maxlength": "40"}), **common
        )
    return forms.CharField(
        widget=forms.TextInput(attrs={"maxlength": str(TEXT_MAX_LENGTH)}), **common
    )


def initial_for(customer: Customer, *, may_reveal: bool = True) -> dict[str, Any]:
    """The edit form's starting values: the stored customer, its tags and its version;
    the masked fields masked for a reader who may not reveal them."""
    initial = {name: getattr(customer, name) for name in FIELDS}
    if not may_reveal:
        initial.update(masked_values(customer))
    for key, value in (customer.custom or {}).items():
        initial[CUSTOM_PREFIX + key] = value
    initial["tags"] = ", ".join(tag.name for tag in customer.tags.all())
    initial["version"] = customer.version
    return initial


def _date_filter(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class CustomerFilterForm(StyledForm):
    q = search_field(_("Name, pinyin, initials, phone, email, WeChat or tag"))
    stage = forms.ChoiceField(label=_("Stage"), required=False, choices=with_any(Stage.choices))
    tier = forms.ChoiceField(label=_("Tier"), required=False, choices=with_any(Tier.choices))
    source = forms.ChoiceField(label=_("Source"), required=False, choices=with_any(Source.choices))
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    city = forms.CharField(label=_("City"), required=False, max_length=50)
    stale = forms.BooleanField(label=_("To verify only"), required=False)
    # More filters (a collapsible row on the page) and the sort.
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    province = forms.CharField(label=_("Province"), required=False, max_length=50)
    district = forms.CharField(label=_("District"), required=False, max_length=50)
    created_from = _date_filter(_("Created from"))
    created_to = _date_filter(_("Created until"))
    contact_from = _date_filter(_("Last contact from"))
    contact_to = _date_filter(_("Last contact until"))
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=filtering.SORT_CHOICES,
        initial=filtering.DEFAULT_SORT,
    )

    # Shown in the first row; the rest under "More filters".
    MAIN_FIELDS = ("stage", "tier", "source", "tag", "city")
    MORE_FIELDS = (
        "owner",
        "team",
        "province",
        "district",
        "created_from",
        "created_to",
        "contact_from",
        "contact_to",
    )

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kehu.accounts import selectors as account_selectors

        users: Any = (
            account_selectors.user_list(actor=actor, include_inactive=False)
            if actor is not None
            else []
        )
        teams: Any = account_selectors.team_list(actor=actor) if actor is not None else []
        self.fields["owner"].choices = [("", _("Any")), *((u.pk, u.get_full_name()) for u in users)]
        self.fields["team"].choices = [("", _("Any")), *((t.pk, t.name) for t in teams)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for start, end in (("created_from", "created_to"), ("contact_from", "contact_to")):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(end, _("The end date lies before the start date."))
        return data

    def more_fields(self) -> list[Any]:
        return [self[name] for name in self.MORE_FIELDS]

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.MAIN_FIELDS]

    def uses_more(self) -> bool:
        """Whether one of the "more" filters is set (the row then starts open)."""
        return any(self.data.get(name) for name in self.MORE_FIELDS)

    def filters(self) -> Any:
        """The valid part of the input as CustomerFilters (call after is_valid();
        a field with an error is left out and shows its error)."""
        from kehu.customers.selectors import CustomerFilters

        data = getattr(self, "cleaned_data", {})
        return CustomerFilters(
            q=data.get("q") or "",
            owner_id=data.get("owner"),
            team_id=data.get("team"),
            stage=data.get("stage") or "",
            tier=data.get("tier") or "",
            source=data.get("source") or "",
            tag=(data.get("tag") or "").strip(),
            city=(data.get("city") or "").strip(),
            province=(data.get("province") or "").strip(),
            district=(data.get("district") or "").strip(),
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
            contact_from=data.get("contact_from"),
            contact_to=data.get("contact_to"),
            stale_only=bool(data.get("stale")),
            sort=data.get("sort") or "",
        )


class PoolSearchForm(StyledForm):
    q = search_field(_("Name, pinyin, initials, phone, email or WeChat"))


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
