"""Stock ranking: on PostgreSQL two `SearchVectorField`s written with each document (all of it, and its head:
title, error texts, symptom), each with a GIN index.

This migration replaces three earlier ones (0006 to 0008: word counts kept by PL/pgSQL statement triggers under an
advisory lock, a function choosing candidates, a second FTS5 index of the documents' heads, a generated `head`
vector), rewritten while no production database exists. A database migrated before has those objects; they are
dropped here if present, so both kinds of database end the same.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import migrations

LEFT_BEFORE = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS search_lexeme_insert ON search_document",
        "DROP TRIGGER IF EXISTS search_lexeme_update ON search_document",
        "DROP TRIGGER IF EXISTS search_lexeme_delete ON search_document",
        "DROP FUNCTION IF EXISTS search_lexeme_recount()",
        "DROP FUNCTION IF EXISTS search_candidates(tsquery, text[])",
        "DROP FUNCTION IF EXISTS search_lexeme_count()",
        "DROP FUNCTION IF EXISTS search_lexeme_apply(tsvector[], tsvector[])",
        "DROP TABLE IF EXISTS search_lexeme",
        "DROP INDEX IF EXISTS search_word_trigram",
        # Generated columns: the fields below replace them (their indexes go with them).
        "ALTER TABLE search_document DROP COLUMN IF EXISTS head",
        "ALTER TABLE search_document DROP COLUMN IF EXISTS vector",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS search_head_fts_insert",
        "DROP TRIGGER IF EXISTS search_head_fts_delete",
        "DROP TRIGGER IF EXISTS search_head_fts_update",
        "DROP TABLE IF EXISTS search_head_fts",
    ],
}
# Written directly, without a pending list: searches read them, only edits write them.
INDEXES = [
    GinIndex(fields=["vector"], name="search_document_vector", fastupdate=False),
    GinIndex(fields=["head"], name="search_document_head", fastupdate=False),
]
HEAD = (
    SearchVector("title", weight="A", config="english")
    + SearchVector("keywords", weight="B", config="english")
    + SearchVector("summary", weight="C", config="english")
)


def drop_what_was_left(apps, schema_editor):
    for sql in LEFT_BEFORE.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def index_vectors(apps, schema_editor):
    """PostgreSQL: the GIN indexes, and the vectors of the documents already there."""
    if schema_editor.connection.vendor != "postgresql":
        return
    Document = apps.get_model("search", "Document")
    for index in INDEXES:
        schema_editor.add_index(Document, index)
    Document.objects.update(head=HEAD, vector=HEAD + SearchVector("body", weight="D", config="english"))


def unindex_vectors(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for index in INDEXES:
            schema_editor.remove_index(apps.get_model("search", "Document"), index)


class Migration(migrations.Migration):
    dependencies = [("search", "0005_unknown_code_days")]

    operations = [
        migrations.RunPython(drop_what_was_left, migrations.RunPython.noop),
        migrations.AddField(
            model_name="document",
            name="vector",
            field=SearchVectorField(
                editable=False,
                help_text="PostgreSQL: the words by weight, written with the row. Empty on SQLite.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="document",
            name="head",
            field=SearchVectorField(
                editable=False,
                help_text="PostgreSQL: the same without the body, where candidates are found.",
                null=True,
            ),
        ),
        migrations.RunPython(index_vectors, unindex_vectors),
    ]
