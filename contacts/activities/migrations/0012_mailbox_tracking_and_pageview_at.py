from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # The page-view index is built concurrently (a big table, writes go on): not atomic.
    atomic = False

    dependencies = [
        ("activities", "0011_email_tracking_and_page_views"),
    ]

    operations = [
        migrations.AddField(
            model_name="mailbox",
            name="track_opens",
            field=models.BooleanField(
                db_default=True, default=True, verbose_name="track email opens"
            ),
        ),
        migrations.AddField(
            model_name="mailbox",
            name="track_clicks",
            field=models.BooleanField(
                db_default=True, default=True, verbose_name="track link clicks in email"
            ),
        ),
        AddIndexConcurrently(
            model_name="pageview",
            index=models.Index(fields=["at"], name="pageview_at"),
        ),
    ]
