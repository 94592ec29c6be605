"""Each CJK character of a contact's or company's search text becomes a token of its own, so a
one-character search (a family name such as 张) finds its records through the full-text index.

The rule is contacts.search.with_cjk_characters, written again in SQL (a migration imports no app
code): the characters of the CJK class that are not yet a space-separated token are appended once,
in order of first appearance. Only rows holding such a character change; rows are updated in
batches of ids, each in its own transaction, so a million contacts never lock together. Running it
again changes nothing. The reverse removes what was appended.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

CJK = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
BATCH = 50_000
TABLES = ("contacts_contact", "contacts_company")

FORWARD = f"""
UPDATE {{table}} AS t SET search_text = t.search_text || ' ' || n.chars
FROM (
    SELECT r.id, (
        SELECT string_agg(f.ch, ' ' ORDER BY f.pos)
        FROM (
            SELECT s.ch, min(s.pos) AS pos
            FROM regexp_split_to_table(r.search_text, '') WITH ORDINALITY AS s(ch, pos)
            WHERE s.ch ~ '{CJK}'
            GROUP BY s.ch
        ) AS f
        WHERE f.ch <> ALL (string_to_array(r.search_text, ' '))
    ) AS chars
    FROM {{table}} AS r
    WHERE r.id >= %s AND r.id < %s AND r.search_text ~ '{CJK}'
) AS n
WHERE t.id = n.id AND n.chars IS NOT NULL
"""  # noqa: S608 - built from the constants above

# The appended characters are the trailing run of one-character CJK tokens; a record whose own
# text ends in such a token (a lone 张) loses it too, and gets it back from the next save.
BACKWARD = f"""
UPDATE {{table}} SET search_text = regexp_replace(search_text, '( {CJK})+$', '')
WHERE id >= %s AND id < %s AND search_text ~ '( {CJK})+$'
"""  # noqa: S608


def _batched(sql: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        for table in TABLES:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM {table}")  # noqa: S608
                low, high = cursor.fetchone()
            for start in range(low, high + 1, BATCH):
                with connection.cursor() as cursor:
                    cursor.execute(sql.format(table=table), [start, start + BATCH])

    return run


class Migration(migrations.Migration):
    atomic = False  # each batch commits on its own

    dependencies = [
        ("contacts", "0008_sort_name_byte_order"),
    ]

    operations = [
        migrations.RunPython(_batched(FORWARD), _batched(BACKWARD), elidable=True),
    ]
