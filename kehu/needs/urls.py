from django.urls import path

from kehu.needs import views

app_name = "needs"

urlpatterns = [
    path("", views.need_list, name="list"),
    path("customer/<int:customer_pk>/new/", views.need_create, name="create"),
    path("<int:pk>/edit/", views.need_edit, name="edit"),
    path("<int:pk>/status/", views.need_status, name="status"),
    path("<int:pk>/delete/", views.need_delete, name="delete"),
]
