"""Daily aggregates for the supervisors' dashboard (issue 20)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("wagtail_helpdesk", "0024_search_indexes")]

    operations = []
