from django.urls import path

from kehu.customers import (
    views,
    views_contacts,
    views_custody,
    views_custom_fields,
    views_export,
    views_filters,
    views_merge,
    views_tags,
)

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
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/interactions/", views.interaction_add, name="interaction_add"),
    path("<int:pk>/reveal/", views_custody.customer_reveal, name="reveal"),
    path("<int:pk>/access/", views_custody.file_access, name="access"),
    path("custom-fields/", views_custom_fields.field_list, name="custom_field_list"),
    path("custom-fields/new/", views_custom_fields.field_edit, name="custom_field_create"),
    path("custom-fields/<int:pk>/", views_custom_fields.field_edit, name="custom_field_edit"),
    path("<int:pk>/contacts/new/", views_contacts.contact_create, name="contact_create"),
    path("contacts/<int:pk>/edit/", views_contacts.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views_contacts.contact_delete, name="contact_delete"),
    path("tags/", views_tags.tag_list, name="tag_list"),
    path("tags/<int:pk>/", views_tags.tag_detail, name="tag_detail"),
    path("tags/<int:pk>/rename/", views_tags.tag_rename, name="tag_rename"),
    path("tags/<int:pk>/merge/", views_tags.tag_merge, name="tag_merge"),
    path("tags/<int:pk>/delete/", views_tags.tag_delete, name="tag_delete"),
    path("duplicates/", views_merge.duplicate_check, name="duplicates"),
    path("merge/", views_merge.merge_page, name="merge"),
    path("deleted/", views_merge.deleted_list, name="deleted"),
    path("<int:pk>/restore/", views_merge.restore, name="restore"),
    path("export/", views_export.customer_export, name="export"),
    path("saved-filters/", views_filters.saved_filter_save, name="saved_filter_save"),
    path(
        "saved-filters/<int:pk>/delete/",
        views_filters.saved_filter_delete,
        name="saved_filter_delete",
    ),
]
