"""Tags as one mechanism (crm.tags): `tag_ids` becomes a model field of contacts and companies,
written by the services (crm.tags.tags_set / tags_add) and the bulk writers, not by triggers.

- Contacts: the column and its GIN index (tag_ids, lifecycle_stage) exist since 0006; they enter
  the model state, and the triggers on the tag table are dropped.
- Companies: the same column, filled from the link table in committed batches, and the same
  index (built CONCURRENTLY), replacing the EXISTS probe of the link table.
"""

import importlib

from django.db import migrations
from django.db.models import Q

import crm.tags

ACTIVE = Q(archived_at__isnull=True)

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS contact_tags_inserted ON contacts_contact_tags;
DROP TRIGGER IF EXISTS contact_tags_deleted ON contacts_contact_tags;
DROP TRIGGER IF EXISTS contact_tags_updated ON contacts_contact_tags;
DROP FUNCTION IF EXISTS contacts_contact_sync_tag_ids();
"""


def _sync_function() -> str:
    return importlib.import_module("contacts.migrations.0006_contact_tag_ids").SYNC_FUNCTION


BACKFILL_COMPANIES = """
DO $$
DECLARE
    low bigint := 0;
    top bigint := (SELECT COALESCE(max(company_id), 0) FROM contacts_company_tags);
BEGIN
    WHILE low <= top LOOP
        UPDATE contacts_company c SET tag_ids = t.ids
          FROM (SELECT company_id, array_agg(tag_id ORDER BY tag_id) AS ids
                  FROM contacts_company_tags
                 WHERE company_id >= low AND company_id < low + 50000
                 GROUP BY company_id) t
         WHERE t.company_id = c.id;
        COMMIT;
        low := low + 50000;
    END LOOP;
END
$$;
"""


class Migration(migrations.Migration):
    atomic = False  # the company index is built CONCURRENTLY, the backfill commits in batches

    dependencies = [("contacts", "0012_add_last_contacted_index")]

    operations = [
        # Contacts: the column and the index are there since 0006.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="contact", name="tag_ids", field=crm.tags.TagIdsField()
                ),
                migrations.AddIndex(
                    model_name="contact",
                    index=crm.tags.tag_index(
                        name="contact_active_tags", column="lifecycle_stage", condition=ACTIVE
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunSQL(DROP_TRIGGERS, _sync_function()),
        # Companies: column, backfill, index.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="company", name="tag_ids", field=crm.tags.TagIdsField()
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE contacts_company "
                    "ADD COLUMN tag_ids bigint[] NOT NULL DEFAULT '{}'",
                    "ALTER TABLE contacts_company DROP COLUMN tag_ids",
                ),
            ],
        ),
        migrations.RunSQL(BACKFILL_COMPANIES, migrations.RunSQL.noop),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="company",
                    index=crm.tags.tag_index(
                        name="company_active_tags", column="lifecycle_stage", condition=ACTIVE
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "CREATE INDEX CONCURRENTLY company_active_tags ON contacts_company "
                    "USING gin (tag_ids, lifecycle_stage) WHERE archived_at IS NULL",
                    "DROP INDEX CONCURRENTLY company_active_tags",
                ),
            ],
        ),
    ]
