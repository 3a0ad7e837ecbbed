"""Routes of the quotas pages: attainment, trend, and setting quotas."""

from django.urls import path

from kehu.sales import views_quotas as views

urlpatterns = [
    path("quotas/", views.quota_page, name="quotas"),
    path("quotas/new/", views.quota_create, name="quota_create"),
    path("quotas/<int:pk>/", views.quota_edit, name="quota_edit"),
    path("quotas/<int:pk>/delete/", views.quota_delete, name="quota_delete"),
]
