from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class StyledForm(forms.Form):
    """Gives every widget Tabler's classes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self)


def style_fields(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()


class AuditFilterForm(StyledForm):
    action = forms.CharField(label=_("Action"), required=False, max_length=64)
    actor = forms.CharField(label=_("Actor"), required=False, max_length=100)
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=64)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def apply_errors(form: forms.BaseForm, exc: Any) -> None:
    """Put a service's ValidationError on the form, by field where it names one."""
    # A form may map a service's field names to its own (``field_for_error(name)``).
    field_for_error = getattr(form, "field_for_error", lambda name: None)
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            target = name if name in form.fields else field_for_error(name)
            for message in messages:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def search_field(placeholder: Any) -> forms.CharField:
    """The search box of a list's filter form."""
    return forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": placeholder}
        ),
    )


def with_any(choices: Any) -> list[tuple[str, Any]]:
    """A filter's choices: "Any" first, then the non-empty ones."""
    return [("", _("Any")), *((value, label) for value, label in choices if value)]
