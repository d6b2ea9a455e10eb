"""Background exports of the ticket list (issue 20)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("wagtail_helpdesk", "0025_daily_figures")]

    operations = []
