from django.urls import path

from . import views

app_name = "support"

urlpatterns = [
    # The request queue: Reviewers and superusers only (the review pages beside it are review.urls).
    path("support/requests/", views.requests, name="requests"),
    path("support/requests/bulk/", views.requests_bulk, name="requests_bulk"),
    path("support/requests.csv", views.requests_csv, name="requests_csv"),
    path("support/requests/<str:reference>/", views.request_detail, name="request"),
    # What sellers send us.
    path("support/ask/", views.ask_support, name="ask"),
    path("support/ask/<str:reference>/", views.asked, name="asked"),
    path("articles/<slug:slug>/feedback/", views.article_feedback, name="article_feedback"),
    # A run's endings (the run's own URLs: troubleshoot.models.RUN_ACTIONS).
    path("troubleshoot/<slug:slug>/<uuid:run_id>/support/", views.run_support, name="run_support"),
    path("troubleshoot/<slug:slug>/<uuid:run_id>/followup/", views.run_followup, name="run_followup"),
    path("followup/<str:token>/support/", views.followup_support, name="followup_support"),
    path("followup/<str:token>/<slug:answer>/", views.followup, name="followup"),
]
