"""The JSON API at /api/v1/: every app's router under one NinjaAPI."""

from __future__ import annotations

from ninja import NinjaAPI

from kehu import __version__
from kehu.accounts.api import TokenAuth
from kehu.accounts.api import router as accounts_router
from kehu.core.api import SessionAuth, install_error_handlers
from kehu.core.api import router as core_router
from kehu.customers.api import router as customers_router
from kehu.customers.api_custom_fields import router as custom_fields_router
from kehu.customers.api_lists import router as customer_lists_router
from kehu.customers.api_merge import router as customers_merge_router
from kehu.customers.api_tags import router as tags_router
from kehu.dataio.api import router as imports_router
from kehu.needs.api import router as needs_router
from kehu.sales.api import router as sales_router

api = NinjaAPI(
    title="kehu API",
    version=__version__,
    description=(
        "The kehu customer-management API. Authenticate with a personal token "
        "(`Authorization: Bearer kehu_…`) or, from the browser, the session cookie "
        "plus the CSRF token. Errors always look like "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    auth=[TokenAuth(), SessionAuth(csrf=True)],
    urls_namespace="api",
    docs_url=None,  # ninja's Swagger page loads from a CDN, which kehu's CSP forbids
    openapi_url="/openapi.json",
)
install_error_handlers(api)
api.add_router("/", core_router)
api.add_router("/", accounts_router)
# Before the customer router: its fixed paths must win over /customers/{customer_id}.
api.add_router("/", customers_merge_router)
# Before the customers router: its "/customers/{customer_id}" would take "/customers/export".
api.add_router("/", customer_lists_router)
api.add_router("/", tags_router)
api.add_router("/", customers_router)
api.add_router("/", custom_fields_router)
api.add_router("/", needs_router)
api.add_router("/", imports_router)
# Inside, each sales module declares its fixed paths before its "/{id}" paths.
api.add_router("/", sales_router)
