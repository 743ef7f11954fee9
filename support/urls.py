from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    # The review pages: Reviewers and superusers only.
    path("support/", views.overview, name="overview"),
    path("support/checkers/<slug:slug>/", views.checker_report, name="checker"),
    path("support/runs/", views.runs, name="runs"),
    path("support/checker-options/", views.checker_options, name="checker_options"),
    path("support/runs.csv", views.runs_csv, name="runs_csv"),
    path("support/runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("support/requests/", views.requests, name="requests"),
    path("support/requests.csv", views.requests_csv, name="requests_csv"),
    path("support/requests/<str:reference>/", views.request_detail, name="request"),
    path("support/gaps/", views.gap_inbox, name="gaps"),
    # What sellers send us.
    path("articles/<slug:slug>/feedback/", views.article_feedback, name="article_feedback"),
    path("followup/<str:token>/support/", views.followup_support, name="followup_support"),
    path("followup/<str:token>/<slug:answer>/", views.followup, name="followup"),
]
