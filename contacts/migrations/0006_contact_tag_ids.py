"""contacts_contact.tag_ids: the contact's tag ids, kept by triggers on the tag table, with a GIN
index on (tag_ids, lifecycle_stage) so a tag filter combines with a stage filter inside one index.

The column is not a Django field: the ORM never writes it (a save() of an instance read before a
tag change cannot put old ids back); only the triggers and the bulk writers, which set
`crm.tag_ids_written` for their transaction and write the column themselves, do.
"""

from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations

SYNC_FUNCTION = """
CREATE FUNCTION contacts_contact_sync_tag_ids() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
BEGIN
    IF current_setting('crm.tag_ids_written', true) = 'on' THEN
        RETURN NULL;  -- a bulk writer (import, seed_demo) writes tag_ids itself
    END IF;
    IF TG_OP = 'INSERT' THEN
        ids := ARRAY(SELECT DISTINCT contact_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        ids := ARRAY(SELECT DISTINCT contact_id FROM old_rows);
    ELSE
        ids := ARRAY(SELECT contact_id FROM old_rows UNION SELECT contact_id FROM new_rows);
    END IF;
    UPDATE contacts_contact c
       SET tag_ids = COALESCE(
           (SELECT array_agg(t.tag_id ORDER BY t.tag_id)
              FROM contacts_contact_tags t WHERE t.contact_id = c.id), '{}')
     WHERE c.id = ANY(ids);
    RETURN NULL;
END
$$;
CREATE TRIGGER contact_tags_inserted AFTER INSERT ON contacts_contact_tags
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_contact_sync_tag_ids();
CREATE TRIGGER contact_tags_deleted AFTER DELETE ON contacts_contact_tags
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_contact_sync_tag_ids();
CREATE TRIGGER contact_tags_updated AFTER UPDATE ON contacts_contact_tags
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_contact_sync_tag_ids();
"""

DROP_FUNCTION = """
DROP TRIGGER contact_tags_inserted ON contacts_contact_tags;
DROP TRIGGER contact_tags_deleted ON contacts_contact_tags;
DROP TRIGGER contact_tags_updated ON contacts_contact_tags;
DROP FUNCTION contacts_contact_sync_tag_ids();
"""

# Existing rows, in committed batches of contact ids: a big table is not locked in one transaction.
BACKFILL = """
DO $$
DECLARE
    low bigint := 0;
    top bigint := (SELECT COALESCE(max(contact_id), 0) FROM contacts_contact_tags);
BEGIN
    WHILE low <= top LOOP
        UPDATE contacts_contact c SET tag_ids = t.ids
          FROM (SELECT contact_id, array_agg(tag_id ORDER BY tag_id) AS ids
                  FROM contacts_contact_tags
                 WHERE contact_id >= low AND contact_id < low + 50000
                 GROUP BY contact_id) t
         WHERE t.contact_id = c.id;
        COMMIT;
        low := low + 50000;
    END LOOP;
END
$$;
"""


class Migration(migrations.Migration):
    atomic = False  # the index is built CONCURRENTLY

    dependencies = [("contacts", "0005_add_contact_cover_index")]

    operations = [
        BtreeGinExtension(),
        migrations.RunSQL(
            "ALTER TABLE contacts_contact ADD COLUMN tag_ids bigint[] NOT NULL DEFAULT '{}'",
            "ALTER TABLE contacts_contact DROP COLUMN tag_ids",
        ),
        # Triggers before the backfill, so a tag change during it is not lost.
        migrations.RunSQL(SYNC_FUNCTION, DROP_FUNCTION),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY contact_active_tags ON contacts_contact "
            "USING gin (tag_ids, lifecycle_stage) WHERE archived_at IS NULL",
            "DROP INDEX CONCURRENTLY contact_active_tags",
        ),
    ]
