"""Background exports of the ticket list (issue 20)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import wagtail_helpdesk.attachments
import wagtail_helpdesk.models.exports


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_helpdesk", "0025_daily_figures"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TicketExport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("format", models.CharField(choices=[("csv", "CSV"), ("xlsx", "XLSX")],
                                            max_length=4, verbose_name="format")),
                ("query", models.TextField(blank=True, verbose_name="list query")),
                ("language", models.CharField(blank=True, max_length=10,
                                              verbose_name="language")),
                ("status", models.CharField(
                    choices=[("queued", "Queued"), ("running", "Being prepared"),
                             ("done", "Ready"), ("failed", "Failed")],
                    default="queued", max_length=10, verbose_name="status")),
                ("progress", models.PositiveSmallIntegerField(default=0,
                                                              verbose_name="progress")),
                ("rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now,
                                                    verbose_name="requested")),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True,
                                                     verbose_name="ready")),
                ("file", models.FileField(
                    blank=True, max_length=255,
                    storage=wagtail_helpdesk.attachments.private_storage,
                    upload_to=wagtail_helpdesk.models.exports.export_upload_to)),
                ("claim_token", models.CharField(blank=True, editable=False, max_length=32)),
                ("attempts", models.PositiveSmallIntegerField(default=0, editable=False)),
                ("queued_at", models.DateTimeField(default=django.utils.timezone.now,
                                                   editable=False)),
                ("office_ids", models.JSONField(blank=True, default=list, editable=False)),
                ("all_offices", models.BooleanField(default=False, editable=False)),
                ("requested_by", models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="helpdesk_exports", to=settings.AUTH_USER_MODEL,
                    verbose_name="requested by")),
            ],
            options={
                "verbose_name": "ticket export",
                "verbose_name_plural": "ticket exports",
                "ordering": ["-created_at", "-pk"],
                "indexes": [models.Index(fields=["requested_by", "-created_at"],
                                         name="helpdesk_export_requester")],
            },
        ),
    ]
