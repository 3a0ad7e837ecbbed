"""Routes of the sales orders pages (placeholder until the pages land)."""

from django.http import HttpResponse
from django.urls import path

from kehu.core.access import require
from kehu.core.permissions import Perm


@require(Perm.VIEW_SALES)
def _placeholder(request):
    return HttpResponse("")


urlpatterns = [
    path(route, _placeholder, name=name)
    for route, name in [("", "orders"), ("products/", "products")]
]
