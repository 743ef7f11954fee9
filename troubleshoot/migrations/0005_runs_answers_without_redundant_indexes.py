"""Drop the single-column indexes that no query needs on runs and answers: each is covered by an index of the Meta
that leads with the same column (the checker's, the version's and the run's keys), or serves no query (the step keys;
on PostgreSQL also their `varchar_pattern_ops` copies for LIKE). A step answer's UPDATE moves indexed columns of its
run, so PostgreSQL writes every index of the table again: 15 of them, 9 now; and an answer's INSERT 4, not 7.

The indexes are dropped by name (`IF EXISTS`: the LIKE copies exist on PostgreSQL only) rather than by AlterField,
which on SQLite copies both tables whole once per field. Reversed, the plain indexes come back, not the LIKE copies.
"""

import django.db.models.deletion
from django.db import migrations, models


DROPPED = {
    "troubleshoot_answer_run_id_e924af35": ("troubleshoot_answer", "run_id"),
    "troubleshoot_answer_step_key_cbdaf55b": ("troubleshoot_answer", "step_key"),
    "troubleshoot_run_checker_id_811ee542": ("troubleshoot_run", "checker_id"),
    "troubleshoot_run_current_step_key_d3fc3b35": ("troubleshoot_run", "current_step_key"),
    "troubleshoot_run_end_step_key_4d33a4c6": ("troubleshoot_run", "end_step_key"),
    "troubleshoot_run_version_id_33cbd236": ("troubleshoot_run", "version_id"),
}
LIKE = ["troubleshoot_answer_step_key_cbdaf55b_like", "troubleshoot_run_current_step_key_d3fc3b35_like",
        "troubleshoot_run_end_step_key_4d33a4c6_like"]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("troubleshoot", "0004_review_log"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="answer",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="troubleshoot.run",
                    ),
                ),
                migrations.AlterField(
                    model_name="answer",
                    name="step_key",
                    field=models.SlugField(
                        db_index=False, help_text="The step's key in the run's version.", max_length=60
                    ),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="checker",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="runs",
                        to="troubleshoot.checker",
                    ),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="current_step_key",
                    field=models.SlugField(
                        blank=True,
                        db_index=False,
                        help_text="Key of the step on screen, in the run's version.",
                        max_length=60,
                    ),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="end_step_key",
                    field=models.SlugField(
                        blank=True, db_index=False, help_text="Key of the step the run ended at.", max_length=60
                    ),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="version",
                    field=models.ForeignKey(
                        db_index=False,
                        help_text="The published version this run walks, start to end, whatever editors publish meanwhile.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="runs",
                        to="troubleshoot.checkerversion",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    [f'DROP INDEX IF EXISTS "{name}"' for name in [*DROPPED, *LIKE]],
                    reverse_sql=[
                        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")'
                        for name, (table, column) in DROPPED.items()
                    ],
                )
            ],
        )
    ]
