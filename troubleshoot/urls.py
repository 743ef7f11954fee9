from django.urls import path

from . import views

app_name = "troubleshoot"

urlpatterns = [
    path("", views.home, name="home"),
    path("category/<slug:slug>/", views.category, name="category"),
    path("topics/", views.topics, name="topics"),
    path("articles/<slug:slug>/", views.article_detail, name="article"),
    path("e/<str:code>/", views.error_code, name="error_code"),
    path("troubleshoot/<slug:slug>/", views.checker_start, name="checker"),
    path("troubleshoot/<slug:slug>/start/", views.start_run, name="start"),
    path("troubleshoot/<slug:slug>/preview/", views.preview, name="preview"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/", views.run_detail, name="run"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/answer/", views.run_answer, name="answer"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/back/", views.run_back, name="back"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/note/", views.run_note, name="note"),
]
