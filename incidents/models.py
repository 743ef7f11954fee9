"""Known incidents staff post ("Xero is having problems sending settlements"), shown to sellers while active, and
the runs started during one."""

import re

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

_CODE_SEPARATORS = re.compile(r"[\s,;]+")


class IncidentQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at), starts_at__lte=at)


class Incident(models.Model):
    message = models.CharField(
        max_length=300,
        help_text="What sellers read first, e.g. “Xero is having problems sending settlements; we're on it, "
        "no need to contact support.” The start time is shown with it.",
    )
    starts_at = models.DateTimeField(default=timezone.now, help_text="Shown from this time.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Hidden from this time; empty while it lasts.")
    error_codes = models.TextField(
        blank=True, help_text="Error codes it affects (XC-001 …), separated by spaces, commas or new lines."
    )
    checkers = models.ManyToManyField(
        "troubleshoot.Checker", blank=True, related_name="incidents", help_text="Checkers it affects."
    )
    categories = models.ManyToManyField(
        "troubleshoot.Category", blank=True, related_name="incidents", help_text="Every checker in these categories."
    )
    everywhere = models.BooleanField(
        default=False, help_text="Show it on every checker page and error-code page, not only the affected ones."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="incident_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.message

    def save(self, *args, **kwargs):
        self.error_codes = " ".join(self.code_list)
        super().save(*args, **kwargs)

    @property
    def code_list(self) -> list[str]:
        return [code.upper() for code in _CODE_SEPARATORS.split(self.error_codes) if code]

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.starts_at <= at and (self.ends_at is None or self.ends_at > at)


class IncidentRun(models.Model):
    """A run that began while an incident affected its checker or the code it came with.

    The link is kept here, not on the run: incidents sit above the seller's walk, which knows nothing of them.
    """

    # Deleting a run takes its link with it; deleting an incident takes its links and leaves the runs, which then
    # read as started outside any incident (what the run's own foreign key did with SET_NULL).
    run = models.OneToOneField(
        "troubleshoot.Run",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="incident_link",
        help_text="The run, started while the incident affected it.",
    )
    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        related_name="run_links",
        help_text="The first active incident affecting the run's checker or error code when it began.",
    )

    class Meta:
        verbose_name = "run during an incident"
        verbose_name_plural = "runs during incidents"

    def __str__(self) -> str:
        return f"Run {self.run_id} during “{self.incident}”"
