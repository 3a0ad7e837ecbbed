"""The sales pages, under /sales/ (each area's routes live in its own module)."""

from kehu.sales import urls_contracts, urls_orders, urls_pipeline, urls_quotas

app_name = "sales"

urlpatterns = [
    *urls_orders.urlpatterns,
    *urls_contracts.urlpatterns,
    *urls_pipeline.urlpatterns,
    *urls_quotas.urlpatterns,
]
