from django.urls import path

from kehu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("pool/", views.pool_list, name="pool"),
    path("pool/<int:pk>/claim/", views.pool_claim, name="claim"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/verify/", views.customer_verify, name="verify"),
    path("<int:pk>/release/", views.customer_release, name="release"),
    path("<int:pk>/interactions/", views.interaction_add, name="interaction_add"),
]
