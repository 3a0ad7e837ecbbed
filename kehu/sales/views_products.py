"""Pages of the product catalogue: the list for everyone who sells, create and edit for
those who manage the catalogue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kehu.core.access import has_perm, require
from kehu.core.forms import apply_errors
from kehu.core.models import ConflictError
from kehu.core.permissions import Perm
from kehu.core.views import CappedPaginator
from kehu.sales import selectors, services
from kehu.sales.forms_orders import TAX_PERCENT_ERROR, percent_text
from kehu.sales.forms_products import ProductFilterForm, ProductForm, product_initial
from kehu.sales.models import Product
from kehu.sales.views_orders import conflict_message

PAGE_SIZE = 50


@require(Perm.VIEW_SALES)
def product_list(request: HttpRequest) -> HttpResponse:
    form = ProductFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    products = selectors.product_list(actor=request.user, q=data.get("q", ""))
    if data.get("active") in ("yes", "no"):
        products = products.filter(is_active=data["active"] == "yes")
    page = CappedPaginator(products, PAGE_SIZE, allow_empty_first_page=True).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sales/products/product_list.html",
        {
            "form": form,
            "page": page,
            "rows": [{"product": p, "tax": percent_text(p.tax_rate)} for p in page],
            "query": query.urlencode(),
            "can_manage": has_perm(request.user, Perm.MANAGE_CATALOGUE),
        },
    )


def _apply_errors(form: ProductForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict") and "tax_rate" in exc.error_dict:
        rest = {k: v for k, v in exc.message_dict.items() if k != "tax_rate"}
        form.add_error("tax_rate", str(TAX_PERCENT_ERROR))
        if rest:
            apply_errors(form, ValidationError(rest))
        return
    apply_errors(form, exc)


def _form_page(
    request: HttpRequest,
    form: ProductForm,
    *,
    title: str,
    product: Product | None = None,
    conflict: str = "",
) -> HttpResponse:
    status = 409 if conflict else 400 if form.errors else 200
    return render(
        request,
        "sales/products/product_form.html",
        {"form": form, "title": title, "product": product, "conflict": conflict},
        status=status,
    )


@require(Perm.MANAGE_CATALOGUE)
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(actor=request.user, **form.product_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Product %(code)s added.") % {"code": product.code})
            return redirect("sales:products")
    return _form_page(request, form, title=_("New product"))


@require(Perm.MANAGE_CATALOGUE)
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    product = selectors.product_list(actor=request.user).filter(pk=pk).first()
    if product is None:
        raise Http404
    form = ProductForm(request.POST or None, initial=product_initial(product), editing=True)
    conflict = ""
    if request.method == "POST" and form.is_valid():
        fields = form.product_fields()
        try:
            services.product_update(
                actor=request.user,
                product=product,
                expected_version=form.cleaned_data["version"],
                **fields,
            )
        except ConflictError:
            conflict = conflict_message()
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Product %(code)s saved.") % {"code": fields["code"]})
            return redirect("sales:products")
    return _form_page(request, form, title=_("Edit product"), product=product, conflict=conflict)
