from django.urls import path

from .views import browse, preview, runs

app_name = "troubleshoot"

urlpatterns = [
    path("", browse.home, name="home"),
    path("category/<slug:slug>/", browse.category, name="category"),
    path("topics/", browse.topics, name="topics"),
    path("articles/<slug:slug>/", browse.article_detail, name="article"),
    path("e/<str:code>/", runs.error_code, name="error_code"),
    path("troubleshoot/<slug:slug>/", runs.checker_start, name="checker"),
    path("troubleshoot/<slug:slug>/start/", runs.start_run, name="start"),
    path("troubleshoot/<slug:slug>/preview/", preview.preview, name="preview"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/", runs.run_detail, name="run"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/answer/", runs.run_answer, name="answer"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/back/", runs.run_back, name="back"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/note/", runs.run_note, name="note"),
]
