"""Pages for the contacts of a customer: add, edit and delete, from the customer's file.

Who may change contacts: whoever may change the customer (Perm.CHANGE_CUSTOMERS and the
customer in their data scope); anyone else gets 404. Mobile numbers stay masked unless the
reader may reveal them, and then only in the edit form, with an audited reveal.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kehu.core.access import require
from kehu.core.forms import StyledForm, apply_errors
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.customers import selectors, services
from kehu.customers.masking import can_reveal, masked_values
from kehu.customers.models import Contact, Customer


def _label(name: str) -> Any:
    field: Any = Contact._meta.get_field(name)
    return capfirst(field.verbose_name)


def _text(name: str, widget: forms.Widget | None = None) -> forms.CharField:
    # The service enforces the limits; the browser is only told them.
    widget = widget or forms.TextInput()
    widget.attrs.setdefault("maxlength", str(Contact._meta.get_field(name).max_length))
    return forms.CharField(label=_label(name), required=False, widget=widget)


class ContactForm(StyledForm):
    name = forms.CharField(label=_label("name"), widget=forms.TextInput(attrs={"maxlength": "100"}))
    role = _text("role")
    mobile = _text("mobile", forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    email = _text("email", forms.EmailInput())
    wechat = _text("wechat")
    is_primary = forms.BooleanField(
        label=_label("is_primary"),
        required=False,
        help_text=gettext_lazy("A customer has one primary contact; this one replaces it."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["version"].required = True
        else:
            del self.fields["version"]

    def contact_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in services.CONTACT_FIELDS}


def _customer(request: HttpRequest, pk: int) -> Customer:
    try:
        return selectors.customer_get(actor=request.user, pk=pk)
    except Customer.DoesNotExist:
        raise Http404 from None


def _contact(request: HttpRequest, pk: int) -> Contact:
    try:
        return selectors.contact_get(actor=request.user, pk=pk, perm=Perm.CHANGE_CUSTOMERS)
    except Contact.DoesNotExist:
        raise Http404 from None


def _file_url(customer_id: int) -> str:
    return reverse("customers:detail", args=[customer_id]) + "#contacts"


def _form_page(
    request: HttpRequest, form: ContactForm, *, title: str, cancel_url: str, conflict: str = ""
) -> HttpResponse:
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "core/form_page.html",
        {
            "form": form,
            "title": title,
            "cancel_url": cancel_url,
            "conflict": conflict,
            "form_id": "contact-form",
        },
        status=status,
    )


@require(Perm.CHANGE_CUSTOMERS)
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                actor=request.user, customer=customer, **form.contact_fields()
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Contact %(name)s added.") % {"name": contact.name})
            return redirect(_file_url(customer.pk))
    return _form_page(
        request,
        form,
        title=_("New contact of %(customer)s") % {"customer": customer.name},
        cancel_url=_file_url(customer.pk),
    )


@require(Perm.CHANGE_CUSTOMERS)
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    revealed = can_reveal(request.user)
    shown_mobile = masked_values(contact)["mobile"]
    conflict = ""
    if request.method == "POST":
        form = ContactForm(request.POST, editing=True)
        if form.is_valid():
            fields = form.contact_fields()
            if not revealed and fields["mobile"] == shown_mobile:
                # The masked number came back unchanged: keep the stored one.
                del fields["mobile"]
            try:
                services.contact_update(
                    actor=request.user,
                    contact=contact,
                    expected_version=form.cleaned_data["version"],
                    **fields,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            except ConflictError:
                conflict = _(
                    "Someone else changed this record — reload it and apply your change again."
                )
            else:
                messages.success(request, _("Contact %(name)s saved.") % {"name": contact.name})
                return redirect(_file_url(contact.customer_id))
    else:
        mobile = (
            services.contact_reveal(actor=request.user, contact=contact)["mobile"]
            if revealed and contact.mobile
            else shown_mobile
        )
        initial = {name: getattr(contact, name) for name in services.CONTACT_FIELDS}
        initial.update(mobile=mobile, version=contact.version)
        form = ContactForm(initial=initial, editing=True)
    if not revealed and contact.mobile:
        form.fields["mobile"].help_text = _("Leave the masked number as it is to keep it.")
    return _form_page(
        request,
        form,
        title=_("Edit contact %(name)s") % {"name": contact.name},
        cancel_url=_file_url(contact.customer_id),
        conflict=conflict,
    )


@require(Perm.CHANGE_CUSTOMERS)
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        services.contact_delete(actor=request.user, contact=contact, expected_version=version)
    except ConflictError:
        messages.error(
            request, _("Someone else changed this record — reload it and apply your change again.")
        )
    else:
        messages.success(request, _("Contact %(name)s deleted.") % {"name": contact.name})
    return redirect(_file_url(contact.customer_id))
