"""Each label row keeps its ticket's office while the ticket is open
(``TicketLabel.open_office``, tickets/open_labels.py): the dashboard counts
the labels on open tickets from a partial index instead of joining every
label row with the open tickets. The rows written before are filled here."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

#: workflow.OPEN_STATUSES when this was written.
OPEN = ("new", "in_progress", "waiting")


def fill(apps, schema_editor):
    Ticket = apps.get_model("wagtail_helpdesk", "Ticket")
    TicketLabel = apps.get_model("wagtail_helpdesk", "TicketLabel")
    TicketLabel.objects.update(open_office=Subquery(
        Ticket.objects.filter(pk=OuterRef("ticket_id"), status__in=OPEN)
        .values("office_id")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("wagtail_helpdesk", "0027_out_of_wagtail_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticketlabel",
            name="open_office",
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to="wagtail_helpdesk.office"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="ticketlabel",
            index=models.Index(condition=models.Q(("open_office__isnull", False)),
                               fields=["open_office", "label"],
                               name="helpdesk_ticket_label_open"),
        ),
    ]
