"""The demo's help desk mailbox: the URP's ``assistenza@comune.example.it``,
receiving by LMTP (``manage.py helpdesk_lmtp``). It is the address the
notifications come from, and its plus-addressed form
(``assistenza+<token>@…``) is their Reply-To.

``make demo`` (scripts/run-demo.sh) sends the demo's mail through
``scripts/demo_mail.py``, which keeps every message in ``var/mail/`` for the
citizens' webmail and hands this mailbox's mail to the LMTP receiver.
"""

from .data import EMAIL_DOMAIN

#: slug of the office, slug of the service new e-mails are about, address, name
MAILBOXES = [
    ("urp", "informazioni-generali", f"assistenza@{EMAIL_DOMAIN}", "Assistenza ai cittadini"),
]


def create_mailboxes(offices=None):
    """Create the demo's mailboxes that are missing; the number created.

    ``offices`` (slug → Office), when the caller has them; otherwise they are
    looked up by slug. New e-mail opens requests about the URP's "Informazioni
    generali" (an operator changes the service). An existing mailbox (same
    address) is left as an administrator may have changed it."""
    from ..models import Mailbox, MailboxProtocol, Office, Service

    created = 0
    for office_slug, service_slug, address, name in MAILBOXES:
        office = (offices or {}).get(office_slug) or Office.objects.filter(
            slug=office_slug).first()
        service = Service.objects.filter(slug=service_slug, office=office).first()
        _mailbox, new = Mailbox.objects.get_or_create(
            address=address,
            defaults={"name": name, "protocol": MailboxProtocol.LMTP, "office": office,
                      "service": service, "active": True, "processed_folder": ""})
        created += new
    return created
