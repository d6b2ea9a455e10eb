"""Records that only website declarations ever made are declared ones.

Before 0015 a fiscal code typed into a website form created a record holding
it as a real ``fiscal_code`` (with the typed e-mail and phone). Left as
verified, such a record would be taken over by the first SPID/CIE login with
that fiscal code, typed contacts included. A record with no account, no
ticket but web tickets whose creation says "identity declared", becomes a
declared record: the code moves to ``declared_fiscal_code``. Records an
operator or a login ever touched (any other ticket, an account) stay as they
are (docs/concepts.md, "What changed for existing data").
"""

from django.db import migrations


def mark_declared(apps, schema_editor):
    Citizen = apps.get_model("wagtail_helpdesk", "Citizen")
    Ticket = apps.get_model("wagtail_helpdesk", "Ticket")
    TicketEvent = apps.get_model("wagtail_helpdesk", "TicketEvent")
    declared_tickets = set(TicketEvent.objects.filter(
        kind="created", data__identity="declared").values_list("ticket_id", flat=True))
    candidates = Citizen.objects.filter(declared=False, user__isnull=True, erased_at__isnull=True,
                                        fiscal_code__isnull=False)
    for citizen in candidates.iterator():
        tickets = set(Ticket.objects.filter(citizen_id=citizen.pk).values_list("pk", flat=True))
        if tickets and tickets <= declared_tickets:
            Citizen.objects.filter(pk=citizen.pk).update(
                declared=True, declared_fiscal_code=citizen.fiscal_code, fiscal_code=None)


class Migration(migrations.Migration):

    dependencies = [("wagtail_helpdesk", "0015_declared_identities")]

    operations = [migrations.RunPython(mark_declared, migrations.RunPython.noop)]
