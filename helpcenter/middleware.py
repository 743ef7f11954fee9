"""Middleware of the whole site: request ids for the logs, the load balancers' health check, and headers."""

import re
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone

from .logs import request_id

# A request id a proxy sent is kept when it looks like one (no header injection through our own logs).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}\Z")
# A queued task this overdue means no task worker is running (it polls every second).
QUEUE_OVERDUE = timedelta(minutes=5)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(request.id)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = request.id
        return response


def health() -> tuple[bool, dict]:
    """Whether this app server can serve (database and cache answer), and how the task queue is doing."""
    from django_tasks_db.models import DBTaskResult

    report: dict = {}
    began = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = {"ok": True, "ms": round((time.monotonic() - began) * 1000, 1)}
    except Exception as error:  # noqa: BLE001 - reported, not raised: this is the health check
        report["database"] = {"ok": False, "error": type(error).__name__}
    began = time.monotonic()
    try:
        probe = uuid.uuid4().hex
        cache.set("healthz", probe, 10)
        report["cache"] = {"ok": cache.get("healthz") == probe, "ms": round((time.monotonic() - began) * 1000, 1)}
    except Exception as error:  # noqa: BLE001
        report["cache"] = {"ok": False, "error": type(error).__name__}
    if report["database"]["ok"]:
        # Not a reason to take this server out of the pool: the worker runs apart, and queued work waits safely.
        overdue = DBTaskResult.objects.ready().filter(enqueued_at__lt=timezone.now() - QUEUE_OVERDUE).count()
        report["queue"] = {"ok": overdue == 0, "overdue": overdue}
    return report["database"]["ok"] and report["cache"]["ok"], report


class HealthCheckMiddleware:
    """`GET /healthz`: 200 when this server can serve, 503 when its database or cache doesn't answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz":
            return self.get_response(request)
        ok, report = health()
        response = JsonResponse({"ok": ok, **report}, status=200 if ok else 503)
        response["Cache-Control"] = "no-store"
        return response


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
