"""The database's full-text index over search_document. SQLite: an FTS5 table, kept by triggers (FTS5's own way of
indexing another table's rows). PostgreSQL: pg_trgm, for the titles' trigram similarity; the stored vector and its
GIN index are in migration 0006.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE search_document_fts USING fts5(
        title, keywords, summary, body,
        content='search_document', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER search_document_fts_insert AFTER INSERT ON search_document BEGIN
        INSERT INTO search_document_fts(rowid, title, keywords, summary, body)
        VALUES (new.id, new.title, new.keywords, new.summary, new.body);
    END""",
    """CREATE TRIGGER search_document_fts_delete AFTER DELETE ON search_document BEGIN
        INSERT INTO search_document_fts(search_document_fts, rowid, title, keywords, summary, body)
        VALUES ('delete', old.id, old.title, old.keywords, old.summary, old.body);
    END""",
    """CREATE TRIGGER search_document_fts_update AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_document_fts(search_document_fts, rowid, title, keywords, summary, body)
        VALUES ('delete', old.id, old.title, old.keywords, old.summary, old.body);
        INSERT INTO search_document_fts(rowid, title, keywords, summary, body)
        VALUES (new.id, new.title, new.keywords, new.summary, new.body);
    END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER search_document_fts_update",
    "DROP TRIGGER search_document_fts_delete",
    "DROP TRIGGER search_document_fts_insert",
    "DROP TABLE search_document_fts",
]


def statements(forward: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"Search needs SQLite or PostgreSQL, not {vendor}")
        if vendor == "sqlite":
            for sql in SQLITE if forward else SQLITE_REVERSE:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    # TrigramExtension does nothing on SQLite.
    operations = [TrigramExtension(), migrations.RunPython(statements(True), statements(False))]
