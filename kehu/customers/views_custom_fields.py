"""Administration of the custom fields of the customer file (``customers.custom_fields``):
list, define, change, retire. Writes go through kehu.customers.custom_fields (audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.core.access import require
from kehu.core.forms import StyledForm, apply_errors
from kehu.core.permissions import Perm
from kehu.customers import custom_fields
from kehu.customers.choices import FieldKind
from kehu.customers.models import CustomField


class CustomFieldForm(StyledForm):
    key = forms.CharField(
        label=pgettext_lazy("custom field identifier", "Key"),
        max_length=custom_fields.KEY_MAX_LENGTH,
        help_text=gettext_lazy(
            "Lower-case letters, digits and _, starting with a letter (e.g. budget). "
            "Fixed once the field exists."
        ),
        widget=forms.TextInput(attrs={"maxlength": str(custom_fields.KEY_MAX_LENGTH)}),
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=FieldKind.choices,
        help_text=gettext_lazy("Fixed once the field exists."),
    )
    label_zh_hans = forms.CharField(
        label=gettext_lazy("Label (Simplified Chinese)"),
        required=False,
        max_length=custom_fields.LABEL_MAX_LENGTH,
    )
    label_zh_hant = forms.CharField(
        label=gettext_lazy("Label (Traditional Chinese)"),
        required=False,
        max_length=custom_fields.LABEL_MAX_LENGTH,
    )
    label_en = forms.CharField(
        label=gettext_lazy("Label (English)"),
        required=False,
        max_length=custom_fields.LABEL_MAX_LENGTH,
    )
    choices = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        help_text=gettext_lazy("For a choice field: one choice per line."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    position = forms.IntegerField(
        label=gettext_lazy("Position"),
        min_value=0,
        max_value=custom_fields.POSITION_MAX,
        initial=0,
        help_text=gettext_lazy("Fields are shown in this order (smallest first)."),
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("In use"),
        required=False,
        initial=True,
        help_text=gettext_lazy(
            "A field no longer in use leaves the forms; the values already entered stay."
        ),
    )

    def __init__(self, *args: Any, instance: CustomField | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "key": instance.key,
                    "kind": instance.kind,
                    "label_en": instance.label_en,
                    "label_zh_hans": instance.label_zh_hans,
                    "label_zh_hant": instance.label_zh_hant,
                    "choices": "\n".join(str(c) for c in instance.choices or []),
                    "required": instance.required,
                    "position": instance.position,
                    "is_active": instance.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is None:
            del self.fields["is_active"]
        else:
            self.fields["key"].disabled = True
            self.fields["kind"].disabled = True

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["choices"] = [
            line.strip() for line in data.get("choices", "").splitlines() if line.strip()
        ]
        return data


@require(Perm.MANAGE_CUSTOM_FIELDS)
def field_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "customers/custom_fields/field_list.html",
        {"fields": list(custom_fields.all_fields())},
    )


@require(Perm.MANAGE_CUSTOM_FIELDS)
def field_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = None
    if pk is not None:
        instance = CustomField.objects.filter(pk=pk).first()
        if instance is None:
            raise Http404
    form = CustomFieldForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = form.values()
        try:
            if instance is None:
                field = custom_fields.custom_field_create(
                    actor=request.user,
                    key=data["key"],
                    kind=data["kind"],
                    label_en=data["label_en"],
                    label_zh_hans=data["label_zh_hans"],
                    label_zh_hant=data["label_zh_hant"],
                    choices=data["choices"],
                    required=data["required"],
                    position=data["position"],
                )
            else:
                field = custom_fields.custom_field_update(
                    actor=request.user,
                    field=instance,
                    label_en=data["label_en"],
                    label_zh_hans=data["label_zh_hans"],
                    label_zh_hant=data["label_zh_hant"],
                    choices=data["choices"],
                    required=data["required"],
                    position=data["position"],
                    is_active=data["is_active"],
                )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Custom field %(label)s saved.") % {"label": field.label})
            return redirect("customers:custom_field_list")
    title = (
        _("New custom field")
        if instance is None
        else _("Custom field %(label)s") % {"label": instance.label}
    )
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": title,
            "form_id": "custom-field-form",
            "cancel_url": reverse("customers:custom_field_list"),
        },
        status=400 if form.errors else 200,
    )
