from django.urls import path

from kehu.dataio import views

app_name = "dataio"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("new/", views.job_upload, name="upload"),
    path("<int:pk>/", views.job_detail, name="detail"),
    path("<int:pk>/start/", views.job_start, name="start"),
    path("<int:pk>/resume/", views.job_resume, name="resume"),
    path("<int:pk>/progress/", views.job_progress, name="progress"),
    path("<int:pk>/report/", views.job_report, name="report"),
]
