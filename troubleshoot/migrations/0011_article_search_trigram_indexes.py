"""PostgreSQL: trigram indexes for the article list's search in the admin (title, summary, body contain the words
typed, as `UPPER(column) LIKE UPPER('%words%')`). Without them each search read every article twice (the count and
the page): 110-175 ms a scan at 5,000 articles, 8-17 ms with them (bench/results-content-pages-postgresql.md).
SQLite reads 5,000 articles fast enough and has no such index: nothing is done there."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FIELDS = ("title", "summary", "body")


def add_indexes(apps, schema_editor):
    # As SQL: Django's OpClass around Upper() renders inside one pair of parentheses too many for PostgreSQL.
    if schema_editor.connection.vendor == "postgresql":
        for field in FIELDS:
            schema_editor.execute(
                f"CREATE INDEX article_{field}_trigram ON troubleshoot_article USING gin (UPPER({field}) gin_trgm_ops)"
            )


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for field in FIELDS:
            schema_editor.execute(f"DROP INDEX article_{field}_trigram")


class Migration(migrations.Migration):
    dependencies = [("troubleshoot", "0010_run_incident_moved_to_incidents")]

    # TrigramExtension does nothing on SQLite.
    operations = [TrigramExtension(), migrations.RunPython(add_indexes, remove_indexes)]
