"""The "New business" pipeline with its stages, and the usual loss reasons (names in English;
admins rename them)."""

from django.db import migrations

STAGES = [
    # name, probability, kind, required fields, stalled after (days)
    ("Qualification", 10, "open", [], 14),
    ("Needs analysis", 20, "open", [], 21),
    ("Proposal", 50, "open", ["amount"], 21),
    ("Negotiation", 75, "open", ["amount", "company"], 21),
    ("Won", 100, "won", ["amount"], 3650),
    ("Lost", 0, "lost", [], 3650),
]
LOSS_REASONS = ["Price", "Chose a competitor", "No budget", "No decision", "Timing", "Other"]


def create(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    LossReason = apps.get_model("sales", "LossReason")
    pipeline, created = Pipeline.objects.get_or_create(
        name="New business", defaults={"is_default": True, "position": 0}
    )
    if created:
        for position, (name, probability, kind, required, stall) in enumerate(STAGES):
            Stage.objects.create(
                pipeline=pipeline,
                name=name,
                position=position,
                probability=probability,
                kind=kind,
                required_fields=required,
                stall_days=stall,
            )
    for name in LOSS_REASONS:
        LossReason.objects.get_or_create(name=name)


def remove(apps, schema_editor):
    apps.get_model("sales", "Pipeline").objects.filter(name="New business").delete()
    apps.get_model("sales", "LossReason").objects.filter(name__in=LOSS_REASONS).delete()


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_pipelines_and_opportunities")]

    operations = [migrations.RunPython(create, remove)]
