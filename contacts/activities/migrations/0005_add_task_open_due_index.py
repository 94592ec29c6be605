"""The reminders' beat query (open tasks that came due in the last day, every minute) reads a
partial index instead of the task table. Written as SQL: it is not a model index, so no other
query's plan or the autodetector sees it (as contacts' migration 0007)."""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY: no lock on a busy task table

    dependencies = [("activities", "0004_add_personal_mailbox")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS task_open_due "
            "ON activities_task (due_at, id) WHERE status = 'open' AND due_at IS NOT NULL",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS task_open_due",
        ),
    ]
