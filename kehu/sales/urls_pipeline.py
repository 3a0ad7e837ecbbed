"""Routes of the pipeline pages: the board, opportunities and the stages."""

from django.urls import path

from kehu.sales import views_pipeline as views

urlpatterns = [
    path("pipeline/", views.board, name="pipeline"),
    path("pipeline/stages/", views.stage_list, name="stages"),
    path("pipeline/stages/new/", views.stage_create, name="stage_create"),
    path("pipeline/stages/<int:pk>/", views.stage_edit, name="stage_edit"),
    path("opportunities/", views.opportunity_list, name="opportunities"),
    path("opportunities/new/", views.opportunity_create, name="opportunity_create"),
    path("opportunities/<int:pk>/", views.opportunity_detail, name="opportunity"),
    path("opportunities/<int:pk>/edit/", views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:pk>/move/", views.opportunity_move, name="opportunity_move"),
    path("opportunities/<int:pk>/close/", views.opportunity_close, name="opportunity_close"),
]
