"""The example site's privacy notice (chosen in Settings → Helpdesk, so the
citizen forms link to it), accessibility statement, legal notes, and
"Servizi" with one service page: see :mod:`example_site.home.site_pages`."""

from django.db import migrations

from example_site.home import site_pages


class Migration(migrations.Migration):
    dependencies = [
        ("home", "0006_agid_pages"),
        ("wagtail_helpdesk", "0016_legacy_declared_records"),
    ]

    operations = [migrations.RunPython(site_pages.create, migrations.RunPython.noop)]
