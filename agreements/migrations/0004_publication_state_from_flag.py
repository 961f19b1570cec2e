"""is_published=True becomes the "published" state; everything else stays a draft."""

from django.db import migrations


def forwards(apps, schema_editor):
    for name in ("Agreement", "Transfer"):
        model = apps.get_model("agreements", name)
        model.objects.filter(is_published=True).update(publication_state="published")


def backwards(apps, schema_editor):
    for name in ("Agreement", "Transfer"):
        model = apps.get_model("agreements", name)
        model.objects.filter(publication_state="published").update(is_published=True)


class Migration(migrations.Migration):
    dependencies = [("agreements", "0003_review_history_figures")]

    operations = [migrations.RunPython(forwards, backwards)]
