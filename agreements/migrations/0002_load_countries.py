"""Load every country from pycountry, plus Kosovo (XK) and the European Union (EU)."""

from django.db import migrations


def load_countries(apps, schema_editor):
    from agreements.countries import sync_countries

    sync_countries(apps.get_model("agreements", "Country"))


class Migration(migrations.Migration):
    dependencies = [("agreements", "0001_initial")]

    operations = [migrations.RunPython(load_countries, migrations.RunPython.noop)]
