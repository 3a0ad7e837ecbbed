from django.urls import path

app_name = "customers"

urlpatterns: list = [
    # Pages arrive in kehu/customers/views.py.
]
