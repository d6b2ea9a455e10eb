"""Background exports of the ticket list (CSV/XLSX too large to be made
while the operator waits): the request (who, which format, the list's query
string), its progress and the file, kept in the private storage and served
only to whoever asked for it (issue 20)."""

import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..attachments import private_storage


class ExportStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("export status", "Queued")
    RUNNING = "running", _("Being prepared")
    DONE = "done", pgettext_lazy("export status", "Ready")
    FAILED = "failed", pgettext_lazy("export status", "Failed")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


def export_upload_to(instance, filename):
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f"helpdesk/exports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix[:6]}"


class TicketExport(models.Model):
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_exports",
        verbose_name=_("requested by"))
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices)
    #: The ticket list's query string (queue, filters, search, ordering).
    query = models.TextField(_("list query"), blank=True)
    #: The language of the list when it was asked for (the file's headings and values).
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices,
                              default=ExportStatus.QUEUED)
    #: 0–100, while it is being prepared.
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("ready"), null=True, blank=True)
    file = models.FileField(storage=private_storage, upload_to=export_upload_to,
                            max_length=255, blank=True)
    #: Set by the worker that claimed the export: only that worker may finish it.
    claim_token = models.CharField(max_length=32, blank=True, editable=False)
    #: How many times a worker claimed it (a killed worker's export is retried, bounded).
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    #: When it was last handed to the task queue (the sweeper re-queues lost ones).
    queued_at = models.DateTimeField(default=timezone.now, editable=False)
    #: The offices whose tickets the file may hold (the requester's when it was
    #: made); ``all_offices`` for those who saw every office. The download is
    #: refused once the requester no longer sees all of them.
    office_ids = models.JSONField(default=list, blank=True, editable=False)
    all_offices = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("ticket export")
        verbose_name_plural = _("ticket exports")
        indexes = [models.Index(fields=["requested_by", "-created_at"],
                                name="helpdesk_export_requester")]

    def __str__(self):
        return f"{self.get_format_display()} {self.created_at:%Y-%m-%d %H:%M}"


@receiver(post_delete, sender=TicketExport, dispatch_uid="wagtail_helpdesk_export_file")
def delete_export_file(sender, instance, **kwargs):
    """The file goes with its row (deleted one by one, or with the requester),
    once the deletion is committed."""
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name), using=kwargs.get("using"))
