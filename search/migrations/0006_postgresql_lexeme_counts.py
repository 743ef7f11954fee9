"""PostgreSQL: each word's number of documents kept at index time, GIN indexes without a pending list, and the
search's candidates read through them.

Ranking weighs each word of a query by its rarity (how many documents have it). Counting those documents per
query through the GIN index cost more than the search itself, so `search_lexeme` keeps the count per stemmed word
(and, under the empty word, the number of documents), brought up to date by statement triggers whenever
documents are written: a search reads the counts it needs by primary key. SQLite's FTS5 keeps the same
statistics itself (bm25 reads them), so there is nothing to do there.

GIN's "fast update" collects new entries in a pending list that every search then reads in full until a vacuum
merges it: after a rebuild, a one-word search read 200 pages of it (12 ms instead of 0.6 ms). The index is read
on every search and written only when content changes, so it is written directly.
"""

from django.db import migrations

POSTGRESQL = [
    "ALTER INDEX search_document_vector SET (fastupdate = off)",
    "ALTER INDEX search_document_head SET (fastupdate = off)",
    "ALTER INDEX search_word_trigram SET (fastupdate = off)",
    "SELECT gin_clean_pending_list('search_document_vector')",
    "SELECT gin_clean_pending_list('search_document_head')",
    "SELECT gin_clean_pending_list('search_word_trigram')",
    # C collation: a prefix (the word being typed) is a range of the primary key.
    """CREATE TABLE search_lexeme (
        lexeme text COLLATE "C" PRIMARY KEY,
        documents integer NOT NULL
    )""",
    # Adds one for each word of each added document, takes one for each word of each removed one; '' counts the
    # documents. Words an update leaves as they were are not written.
    """CREATE FUNCTION search_lexeme_apply(added tsvector[], removed tsvector[]) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO search_lexeme AS counted (lexeme, documents)
        SELECT lexeme, sum(change) FROM (
            SELECT unnest(array_append(tsvector_to_array(v), '')) AS lexeme, 1 AS change FROM unnest(added) AS v
            UNION ALL
            SELECT unnest(array_append(tsvector_to_array(v), '')), -1 FROM unnest(removed) AS v
        ) AS changes
        GROUP BY lexeme HAVING sum(change) <> 0
        ORDER BY lexeme
        ON CONFLICT (lexeme) DO UPDATE SET documents = counted.documents + excluded.documents
    $$""",
    # Writers of documents take turns on the counts (a transaction-long lock): two transactions each writing
    # several documents would otherwise lock shared words in different orders and deadlock. A transaction that
    # writes the whole index (`search.index.rebuild`) says `search.count_later` and recounts once at the end: each
    # statement updating the same rows again in one transaction gets slower as their row versions pile up.
    """CREATE FUNCTION search_lexeme_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('search.count_later', true) = 'on' THEN
            RETURN NULL;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('search_lexeme'));
        IF TG_OP = 'INSERT' THEN
            PERFORM search_lexeme_apply(ARRAY(SELECT vector FROM new_rows), '{}');
        ELSIF TG_OP = 'UPDATE' THEN
            PERFORM search_lexeme_apply(ARRAY(SELECT vector FROM new_rows), ARRAY(SELECT vector FROM old_rows));
        ELSE
            PERFORM search_lexeme_apply('{}', ARRAY(SELECT vector FROM old_rows));
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE TRIGGER search_lexeme_insert AFTER INSERT ON search_document REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_lexeme_count()""",
    """CREATE TRIGGER search_lexeme_update AFTER UPDATE ON search_document
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_lexeme_count()""",
    """CREATE TRIGGER search_lexeme_delete AFTER DELETE ON search_document REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION search_lexeme_count()""",
    # The candidates of a search: documents with any of the terms `heads` in their head (term 0, with the head to
    # rank them by), and documents with a rare term anywhere (term n for the n-th of `rare`). Read through the GIN
    # indexes whatever the planner estimates: matching a tsvector row by row costs far more than it thinks (a scan
    # of every head took 20 ms where the index took 2 ms). A function's SET applies while it runs, and only then.
    """CREATE FUNCTION search_candidates(heads tsquery, rare text[])
    RETURNS TABLE (id bigint, head tsvector, term integer)
    LANGUAGE sql STABLE SET enable_seqscan = off AS $$
        SELECT id, head, 0 FROM search_document WHERE head @@ heads
        UNION ALL
        SELECT found.id, NULL, asked.n::integer FROM unnest(rare) WITH ORDINALITY AS asked (query, n)
        CROSS JOIN LATERAL (
            SELECT id FROM search_document WHERE vector @@ to_tsquery('english', asked.query)
        ) AS found
    $$""",
    """CREATE FUNCTION search_lexeme_recount() RETURNS void LANGUAGE sql AS $$
        SELECT pg_advisory_xact_lock(hashtext('search_lexeme'));
        DELETE FROM search_lexeme;
        INSERT INTO search_lexeme (lexeme, documents)
        SELECT word, ndoc FROM ts_stat('SELECT vector FROM search_document')
        UNION ALL SELECT '', count(*) FROM search_document;
    $$""",
    # The documents indexed so far.
    "SELECT search_lexeme_recount()",
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER search_lexeme_delete ON search_document",
    "DROP TRIGGER search_lexeme_update ON search_document",
    "DROP TRIGGER search_lexeme_insert ON search_document",
    "DROP FUNCTION search_lexeme_recount()",
    "DROP FUNCTION search_candidates(tsquery, text[])",
    "DROP FUNCTION search_lexeme_count()",
    "DROP FUNCTION search_lexeme_apply(tsvector[], tsvector[])",
    "DROP TABLE search_lexeme",
    "ALTER INDEX search_word_trigram RESET (fastupdate)",
    "ALTER INDEX search_document_head RESET (fastupdate)",
    "ALTER INDEX search_document_vector RESET (fastupdate)",
]


def statements(forward: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in POSTGRESQL if forward else POSTGRESQL_REVERSE:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0005_unknown_code_days")]

    operations = [migrations.RunPython(statements(True), statements(False))]
