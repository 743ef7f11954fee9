"""Keep the draft a restore replaces (ReplacedDraft), so it can be brought back (issue 26, item 4)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("troubleshoot", "0005_runs_answers_without_redundant_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReplacedDraft",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "data",
                    models.JSONField(
                        help_text="The draft as it was: a checker's steps (content-file format), or an article's title, summary and body."
                    ),
                ),
                (
                    "replaced_by",
                    models.CharField(help_text='What replaced it, e.g. "restoring version 2".', max_length=120),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "brought_back_at",
                    models.DateTimeField(blank=True, help_text="When it was put back into the draft.", null=True),
                ),
                (
                    "article",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="replaced_drafts",
                        to="troubleshoot.article",
                    ),
                ),
                (
                    "checker",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="replaced_drafts",
                        to="troubleshoot.checker",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("article__isnull", True), ("checker__isnull", False)),
                            models.Q(("article__isnull", False), ("checker__isnull", True)),
                            _connector="OR",
                        ),
                        name="replaced_draft_of_one_item",
                    )
                ],
            },
        ),
    ]
