from django.urls import path

from . import views

app_name = "review"

# Under /support/ as they always were (links and bookmarks keep working); Reviewers and superusers only.
urlpatterns = [
    path("support/", views.overview, name="overview"),
    path("support/checkers/<slug:slug>/", views.checker_report, name="checker"),
    path("support/runs/", views.runs, name="runs"),
    path("support/checker-options/", views.checker_options, name="checker_options"),
    path("support/runs.csv", views.runs_csv, name="runs_csv"),
    path("support/runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("support/gaps/", views.gap_inbox, name="gaps"),
    path("support/gaps/item/", views.gap_item, name="gap_item"),
]
