# Tracking (activities' email opens/clicks and page views) for lead scoring: the website visitor
# who sent a lead's web form, and three engagement fields for scoring rules.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0005_score_decay_temperature_external_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="lead",
            name="visitor",
            field=models.UUIDField(
                blank=True, editable=False, null=True, verbose_name="website visitor"
            ),
        ),
        migrations.AlterField(
            model_name="scoringrule",
            name="field",
            field=models.CharField(
                choices=[
                    ("job_title", "job title"),
                    ("company_name", "company"),
                    ("email", "email"),
                    ("website", "website"),
                    ("industry", "industry"),
                    ("size", "company size"),
                    ("region", "region"),
                    ("source", "source"),
                    ("utm_source", "UTM source"),
                    ("utm_campaign", "UTM campaign"),
                    ("phone", "phone"),
                    ("interactions", "logged interactions"),
                    ("meetings", "meetings logged"),
                    ("replies", "replies received"),
                    ("form_submitted", "web form submitted"),
                    ("email_opened", "emails opened"),
                    ("email_clicked", "email links clicked"),
                    ("page_visited", "website pages visited"),
                ],
                max_length=20,
                verbose_name="field",
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("visitor__isnull", False)),
                fields=["visitor"],
                name="lead_visitor",
            ),
        ),
    ]
