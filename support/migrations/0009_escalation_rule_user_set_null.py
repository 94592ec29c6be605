"""An escalation rule outlives the user it reassigns to: deleting the user sets `to_user` to NULL
(was: CASCADE, the rule vanished unseen) and the rule then reassigns to the queue's lead, says so
in its note and in the admin (`EscalationRule.fallback_reason`). The check that "a user" names one
moves to the admin form only."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0008_customer_tiers_escalation_rules_deal"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="escalationrule",
            name="escalationrule_user_given",
        ),
        migrations.AlterField(
            model_name="escalationrule",
            name="to_user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
    ]
