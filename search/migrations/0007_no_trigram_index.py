"""PostgreSQL: misspellings are corrected in the process now, the same way as on SQLite (`search/spelling.py`), so
the trigram index over the vocabulary is no longer read; it was written on every indexed document."""

from django.db import migrations

POSTGRESQL = ["DROP INDEX IF EXISTS search_word_trigram"]
POSTGRESQL_REVERSE = [
    "CREATE INDEX search_word_trigram ON search_word USING GIN (lower(word) gin_trgm_ops) WITH (fastupdate = off)"
]


def statements(forward: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in POSTGRESQL if forward else POSTGRESQL_REVERSE:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0006_postgresql_lexeme_counts")]

    operations = [migrations.RunPython(statements(True), statements(False))]
