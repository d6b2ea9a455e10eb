"""Signed links to one ticket, for citizens who wrote without logging in:
the e-mails they receive carry one, and it opens that ticket's page (the
public timeline, replies, files) and nothing else. The link names the ticket
and its citizen, is signed with ``SECRET_KEY`` and expires after
``TICKET_LINK_DAYS`` days (a new e-mail brings a fresh one)."""

from django.core import signing
from django.urls import NoReverseMatch, reverse

from ..conf import get_setting

SALT = "wagtail_helpdesk.ticket-link"


def make_token(ticket):
    return signing.dumps([ticket.pk, ticket.citizen_id], salt=SALT, compress=True)


def read_token(token):
    """(ticket id, citizen id) of a valid, unexpired token, else None."""
    max_age = int(get_setting("TICKET_LINK_DAYS")) * 86400
    try:
        value = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:  # forged, damaged or expired
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) for v in value)):
        return None
    return value[0], value[1]


def personal_area_url():
    """The site's own personal area (``PERSONAL_AREA_URL``), else the app's."""
    return get_setting("PERSONAL_AREA_URL") or reverse("wagtail_helpdesk_my_tickets")


def ticket_path(ticket):
    """Where the citizen follows ``ticket``: their personal area when they log
    in with SPID/CIE, else the ticket's signed link."""
    if ticket.citizen is not None and ticket.citizen.user_id:
        return (get_setting("PERSONAL_AREA_URL")
                or reverse("wagtail_helpdesk_my_ticket", args=[ticket.pk]))
    return reverse("wagtail_helpdesk_ticket_link", args=[make_token(ticket)])


def login_url():
    """Where citizens log in: ``CITIZEN_LOGIN_URL``, else the app's SPID/CIE
    login page when providers are configured and its URLs included."""
    configured = get_setting("CITIZEN_LOGIN_URL")
    if configured or not get_setting("OIDC_PROVIDERS"):
        return configured
    try:
        return reverse("wagtail_helpdesk_oidc_login")
    except NoReverseMatch:
        return ""
