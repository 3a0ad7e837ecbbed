"""The sales app's writes: its public face to other apps (see the modules for details)."""

from kehu.sales.catalogue import product_create, product_update
from kehu.sales.contracts import (
    attachment_add,
    attachment_remove,
    contract_create,
    contract_delete,
    contract_reminders,
    contract_renew,
    contract_set_status,
    contract_update,
)
from kehu.sales.orders import (
    order_add_payment,
    order_add_refund,
    order_cancel,
    order_create,
    order_delete,
    order_link_customer,
    order_update,
)
from kehu.sales.pipeline import (
    opportunity_close,
    opportunity_create,
    opportunity_delete,
    opportunity_move,
    opportunity_update,
    opportunity_win,
    stage_create,
    stage_update,
)
from kehu.sales.quotas import quota_create, quota_delete, quota_update

__all__ = [
    "attachment_add",
    "attachment_remove",
    "contract_create",
    "contract_delete",
    "contract_reminders",
    "contract_renew",
    "contract_set_status",
    "contract_update",
    "opportunity_close",
    "opportunity_create",
    "opportunity_delete",
    "opportunity_move",
    "opportunity_update",
    "opportunity_win",
    "order_add_payment",
    "order_add_refund",
    "order_cancel",
    "order_create",
    "order_delete",
    "order_link_customer",
    "order_update",
    "product_create",
    "product_update",
    "quota_create",
    "quota_delete",
    "quota_update",
    "stage_create",
    "stage_update",
]
