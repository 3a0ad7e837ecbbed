"""The sales API: one router that mounts the catalogue and orders, contracts, the
pipeline and quotas (each in its own module)."""

from ninja import Router

from kehu.sales.api_contracts import router as contracts_router
from kehu.sales.api_orders import router as orders_router
from kehu.sales.api_pipeline import router as pipeline_router
from kehu.sales.api_quotas import router as quotas_router

router = Router()
router.add_router("/", orders_router)
router.add_router("/", contracts_router)
router.add_router("/", pipeline_router)
router.add_router("/", quotas_router)
