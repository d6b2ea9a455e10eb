"""The PDF receipt of a ticket sent from the website (fpdf2, built-in fonts)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from ..formats import format_datetime

_PLAIN = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-",
                        "…": "...", "€": "EUR", "\u00a0": " "})


def _latin1(text):
    """The built-in PDF fonts cover Latin-1 (all Italian letters); map the rest."""
    return str(text or "").translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _municipality(ticket):
    from ..services.core import helpdesk_settings

    settings_ = helpdesk_settings()
    return settings_.sender_name or _("Municipality")


def receipt_pdf(ticket):
    """The receipt as PDF bytes: who, what, when, the code and what happens next."""
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(_("Receipt %(reference)s") % {"reference": ticket.reference}))
    pdf.set_author(_latin1(_municipality(ticket)))
    pdf.set_lang("it")
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 6, _latin1(_municipality(ticket)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    title = (_("Report received") if ticket.kind == "report"
             else _("Assistance request received"))
    pdf.set_font("helvetica", "B", 18)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(0, 6, _latin1(_("Keep this receipt: quote the code below whenever you "
                                   "contact the municipality about it.")),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    submitted = timezone.localtime(ticket.submitted_at or ticket.created_at)
    topic = ticket.service or ticket.report_category
    # What the sender gave: the declared identity even once an operator has
    # linked the ticket to a registered citizen (the receipt is the sender's).
    citizen = ticket.declared_contact or ticket.citizen
    rows = [
        (_("Code"), ticket.reference),
        (_("Sent on"), format_datetime(submitted)),
        (_("Kind"), ticket.get_kind_display()),
        (_("Service") if ticket.service_id else _("Problem type"), str(topic or "")),
        (_("Office"), str(ticket.office or "")),
        (_("Subject"), ticket.subject),
        (_("Place"), ticket.address or (f"{ticket.latitude}, {ticket.longitude}"
                                         if ticket.has_location else "")),
        (_("Applicant"), citizen.full_name if citizen else ""),
        (_("Fiscal code"), (citizen.shown_fiscal_code or "") if citizen else ""),
        (_("E-mail"), citizen.email if citizen else ""),
    ]
    for label, value in rows:
        if not value:
            continue
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(45, 7, _latin1(label))
        pdf.set_font("helvetica", "", 10)
        pdf.multi_cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 7, _latin1(_("Details")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    pdf.multi_cell(0, 6, _latin1(ticket.description), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 10)
    pdf.cell(0, 7, _latin1(_("What happens next")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 10)
    pdf.multi_cell(0, 6, _latin1(_(
        "The office in charge will take your ticket in charge and reply by e-mail. "
        "You will be told of every change.")), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
