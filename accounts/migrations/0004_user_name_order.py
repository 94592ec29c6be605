from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_tokens_and_two_factor_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="name_order",
            field=models.CharField(
                blank=True,
                choices=[
                    ("given_first", "Given name first (John Smith)"),
                    ("family_first", "Family name first (张伟)"),
                ],
                default="",
                help_text=(
                    "Empty: by script (Chinese, Japanese and Korean names family name first)."
                ),
                max_length=12,
                verbose_name="name order",
            ),
        ),
    ]
