"""``POST requests``: check what a client sends, then file the report through
the services layer (channel ``open311``, the client as the actor), so the
deadline, routing and notifications apply as to any other report.

Nothing is written until everything is checked; then the citizen (when the
client sent any personal data) and the ticket are created in one transaction.

* Location: ``lat`` + ``long`` inside the municipality's area (the report
  form's check), or ``address_string`` alone (as the report form accepts a
  typed address without a pin: nothing to check it against without a
  geocoder). ``address_id`` is not supported.
* ``description``: required (a report needs it), at most 4000 characters,
  no HTML. ``media_url``: kept as a link in the description (no upload in
  v2). The first line of the description becomes the ticket's title.
* The person: ``first_name``, ``last_name``, ``email``, ``phone``, all
  optional, make a new citizen record with a declared identity, the
  ticket's own: it is never matched to an existing record (anybody could type
  anybody's details), see :mod:`wagtail_helpdesk.services.identities`.
* Retries: FixMyStreet's ``attribute[fixmystreet_id]`` keys the report for
  good; without it, the same client sending the same fields again within
  about a day gets the ticket the first request created.
"""

import hashlib
from datetime import timedelta

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import services
from ..citizen.area import parse_coordinate
from ..errors import GuardFailed
from ..models import Channel, Kind, Ticket
from ..services.identities import DECLARED, declared_citizen
from . import area, attributes, catalogue, clients
from .errors import Open311Error
from .params import DESCRIPTION_MAX, value

TITLE_MAX = 120
_LIMITS = {"first_name": 100, "last_name": 100, "phone": 40, "email": 254,
           "address_string": 255, "media_url": 1000}


class Intake:
    """The checked content of one POST."""

    def __init__(self, data):
        self.data = data
        self.errors = []

    def error(self, message):
        self.errors.append(message)

    def check(self):
        data = self.data
        code = value(data, "service_code")
        if not code:
            raise Open311Error(400, _("service_code is required."))
        self.category = catalogue.find(code)
        for name, limit in _LIMITS.items():
            if len(value(data, name)) > limit:
                self.error(_("%(name)s is too long: at most %(limit)d characters.")
                           % {"name": name, "limit": limit})
        self._location()
        self._description()
        self._person()
        self.attributes = attributes.for_category(self.category)
        self.answers, errors = attributes.clean_answers(self.attributes, data)
        self.errors.extend(errors)
        if self.errors:
            raise Open311Error(400, errors=[(400, e) for e in self.errors])
        return self

    def _location(self):
        data = self.data
        lat_text, lng_text = value(data, "lat"), value(data, "long")
        self.latitude = self.longitude = None
        self.address = value(data, "address_string")  # its length is checked above
        if lat_text or lng_text:
            try:
                self.latitude = parse_coordinate(lat_text, -90, 90)
                self.longitude = parse_coordinate(lng_text, -180, 180)
            except ValidationError:
                self.latitude = self.longitude = None
            if self.latitude is None or self.longitude is None:
                self.error(_("lat and long must both be given, in decimal degrees (WGS84)."))
            elif not area.contains(self.latitude, self.longitude):
                self.error(_("This place is outside the municipality's territory."))
        elif not self.address:
            if value(data, "address_id"):
                self.error(_("address_id is not supported: send lat and long, or "
                             "address_string."))
            else:
                self.error(_("Say where the problem is: lat and long, or address_string."))

    def _description(self):
        text = value(self.data, "description")
        self.description = text
        if not text:
            self.error(_("description is required: describe the problem."))
        elif len(text) > DESCRIPTION_MAX:
            self.error(_("description is too long: at most %(limit)d characters.")
                       % {"limit": DESCRIPTION_MAX})
        elif nh3.is_html(text):
            self.error(_("description must be plain text, without HTML."))
        self.media_url = value(self.data, "media_url")
        if self.media_url:
            try:
                URLValidator(schemes=["http", "https"])(self.media_url)
            except ValidationError:
                self.error(_("media_url must be an http or https address."))

    def _person(self):
        email = value(self.data, "email")
        if email:
            try:
                EmailValidator()(email)
            except ValidationError:
                self.error(_("email is not a valid e-mail address."))
        self.person = {"given_name": value(self.data, "first_name"),
                       "family_name": value(self.data, "last_name"),
                       "email": email, "phone": value(self.data, "phone")}

    def title(self):
        first = self.description.splitlines()[0].strip()
        return first if len(first) <= TITLE_MAX else first[:TITLE_MAX - 1].rstrip() + "…"

    def full_description(self):
        """The description, then the photo link and the answers, labelled in
        the site's language (operators read them in the ticket)."""
        lines = []
        with translation.override(settings.LANGUAGE_CODE):
            if self.media_url:
                lines.append(_("Photo: %(url)s") % {"url": self.media_url})
            for answer in self.answers:
                lines.append(f"{answer.attribute.description}: {answer.shown()}")
        return "\n\n".join([self.description, "\n".join(lines)]) if lines else self.description


def _digest(*parts):
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:56]


def idempotency_keys(client, data):
    """The keys this POST may already have been filed under; the first is the
    one a new ticket gets."""
    fixmystreet_id = value(data, f"attribute[{attributes.FIXMYSTREET_ID}]")
    if fixmystreet_id:
        return ["o311:" + _digest(client.pk, "fixmystreet", fixmystreet_id)]
    fields = sorted((k, tuple(data.getlist(k))) for k in data if k != "api_key")
    today = timezone.now().date()
    return ["o311:" + _digest(client.pk, day.isoformat(), fields)
            for day in (today, today - timedelta(days=1))]


def file_request(client, data, site=None):
    """``(ticket, created)``: the report ``client`` filed for ``data``, or the one
    an identical earlier request filed. Raises :class:`Open311Error`."""
    keys = idempotency_keys(client, data)
    existing = Ticket.objects.filter(idempotency_key__in=keys).first()
    if existing is not None:
        return existing, False
    intake = Intake(data).check()
    try:
        with transaction.atomic():
            citizen = None
            if any(intake.person.values()):
                citizen = declared_citizen(**intake.person)
            ticket = services.create_ticket(
                clients.actor(client), kind=Kind.REPORT, channel=Channel.OPEN311,
                citizen=citizen,
                report_category=intake.category, subject=intake.title(),
                description=intake.full_description(), latitude=intake.latitude,
                longitude=intake.longitude, address=intake.address, site=site,
                idempotency_key=keys[0], identity=DECLARED if citizen else None,
            )
            if citizen is not None and ticket.citizen_id != citizen.pk:
                citizen.delete()  # an identical request filed it a moment ago
                return ticket, False
    except GuardFailed as exc:
        raise Open311Error(400, exc.message) from exc
    return ticket, True
