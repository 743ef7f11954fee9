"""SQLite: a second FTS5 index over the head of each document alone (title, error texts and codes, symptom or
summary), kept by triggers like the whole one (migration 0002).

A search ranks its candidates only: the documents with a term in their head, or a rare term anywhere
(`backends.SQLiteBackend.match`). Finding the first kind through the whole index with a column filter read the
positions of every document with any of the words (7,000 of 10,000 for a seller's sentence); this index holds the
heads alone, and finds them three times faster. PostgreSQL has its own (the `head` column, migration 0002).
"""

from django.db import migrations

SQLITE = [
    """CREATE VIRTUAL TABLE search_head_fts USING fts5(
        title, keywords, summary,
        content='search_document', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER search_head_fts_insert AFTER INSERT ON search_document BEGIN
        INSERT INTO search_head_fts(rowid, title, keywords, summary)
        VALUES (new.id, new.title, new.keywords, new.summary);
    END""",
    """CREATE TRIGGER search_head_fts_delete AFTER DELETE ON search_document BEGIN
        INSERT INTO search_head_fts(search_head_fts, rowid, title, keywords, summary)
        VALUES ('delete', old.id, old.title, old.keywords, old.summary);
    END""",
    """CREATE TRIGGER search_head_fts_update AFTER UPDATE ON search_document BEGIN
        INSERT INTO search_head_fts(search_head_fts, rowid, title, keywords, summary)
        VALUES ('delete', old.id, old.title, old.keywords, old.summary);
        INSERT INTO search_head_fts(rowid, title, keywords, summary)
        VALUES (new.id, new.title, new.keywords, new.summary);
    END""",
    # The documents indexed so far.
    "INSERT INTO search_head_fts(search_head_fts) VALUES ('rebuild')",
]
SQLITE_REVERSE = [
    "DROP TRIGGER search_head_fts_update",
    "DROP TRIGGER search_head_fts_delete",
    "DROP TRIGGER search_head_fts_insert",
    "DROP TABLE search_head_fts",
]


def statements(forward: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in SQLITE if forward else SQLITE_REVERSE:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0007_no_trigram_index")]

    operations = [migrations.RunPython(statements(True), statements(False))]
