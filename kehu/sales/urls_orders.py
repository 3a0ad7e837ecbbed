"""Routes of the order and catalogue pages (mounted at /sales/, namespace "sales")."""

from django.urls import path

from kehu.sales import views_orders, views_products

urlpatterns = [
    path("orders/", views_orders.order_list, name="orders"),
    path("orders/new/", views_orders.order_create, name="order_create"),
    path("orders/customers/", views_orders.customer_search, name="order_customer_search"),
    path("orders/<int:pk>/", views_orders.order_detail, name="order"),
    path("orders/<int:pk>/edit/", views_orders.order_edit, name="order_edit"),
    path("orders/<int:pk>/payment/", views_orders.order_payment, name="order_payment"),
    path("orders/<int:pk>/refund/", views_orders.order_refund, name="order_refund"),
    path("orders/<int:pk>/delivery/", views_orders.order_delivery, name="order_delivery"),
    path("orders/<int:pk>/link/", views_orders.order_link, name="order_link"),
    path("orders/<int:pk>/cancel/", views_orders.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/delete/", views_orders.order_delete, name="order_delete"),
    path("products/", views_products.product_list, name="products"),
    path("products/new/", views_products.product_create, name="product_create"),
    path("products/<int:pk>/edit/", views_products.product_edit, name="product_edit"),
]
