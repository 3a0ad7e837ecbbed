"""The sales pages, under /sales/ (each area's routes live in its own module)."""

from django.urls import path
from django.views.generic import RedirectView

from kehu.core.access import require
from kehu.core.permissions import Perm
from kehu.sales import urls_contracts, urls_orders, urls_pipeline, urls_quotas

app_name = "sales"

urlpatterns = [
    path(
        "", require(Perm.VIEW_SALES)(RedirectView.as_view(pattern_name="sales:orders")), name="home"
    ),
    *urls_orders.urlpatterns,
    *urls_contracts.urlpatterns,
    *urls_pipeline.urlpatterns,
    *urls_quotas.urlpatterns,
]
