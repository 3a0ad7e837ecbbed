"""kehu's URLs. Every view here declares its permission (see kehu.core.checks)."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView

from kehu.api import api
from kehu.core.access import require
from kehu.core.permissions import PUBLIC

urlpatterns = [
    path("", include("kehu.core.urls")),
    path("accounts/", include("kehu.accounts.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("imports/", include("kehu.dataio.urls")),
    path("needs/", include("kehu.needs.urls")),
    path("sales/", include("kehu.sales.urls")),
    path("api/v1/", api.urls),
    # The Django admin is a maintenance tool; sign-in always goes through kehu's own
    # page, with its throttling and audit.
    path(
        "django-admin/login/",
        require(PUBLIC)(RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    ),
    path("django-admin/", admin.site.urls),
]

handler400 = "kehu.core.views.bad_request"
handler403 = "kehu.core.views.permission_denied"
handler404 = "kehu.core.views.page_not_found"
handler500 = "kehu.core.views.server_error"
