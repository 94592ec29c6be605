from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("contacts", "0013_tag_ids_fields_without_triggers")]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="entity",
            field=models.CharField(
                default="contact", max_length=40, verbose_name="imported records"
            ),
        ),
    ]
