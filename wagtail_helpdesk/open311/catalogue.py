"""Services: the active report categories (segnalazioni) whose office is
active, each with its office as the group and its attributes.

Assistance requests (richieste di assistenza) are about a person's own
matters and are not offered: Open311 is for problems on the territory.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import ReportCategory
from . import attributes
from .errors import Open311Error


def offered():
    """The categories clients may file reports in (one query)."""
    return (ReportCategory.objects.active().filter(office__active=True)
            .select_related("office").order_by("sort_order", "name"))


def service_code(category):
    """A category's code: its id, which never changes (its slug may)."""
    return str(category.pk)


def is_id(text):
    """Whether ``text`` can be a row id (digits that fit a 64-bit integer)."""
    return text.isascii() and text.isdecimal() and len(text) <= 18


def find(code):
    """The offered category with ``code``; 404 for anything else."""
    code = (code or "").strip()
    category = offered().filter(pk=int(code)).first() if is_id(code) else None
    if category is None:
        raise Open311Error(404, _("Unknown service_code: %(code)s.") % {"code": code[:64]})
    return category


def service_notice(category):
    """What the office commits to for reports of this kind ("" when nothing)."""
    days = category.sla_days
    if not days:
        return None
    return ngettext(
        "The office aims to deal with reports of this kind within %(days)d working day.",
        "The office aims to deal with reports of this kind within %(days)d working days.",
        days) % {"days": days}


def service(category):
    return {
        "service_code": service_code(category),
        "service_name": category.name,
        "description": category.description or None,
        # Every service declares at least fixmystreet_id (see attributes).
        "metadata": True,
        "type": "realtime",
        "keywords": None,
        "group": category.office.name,
    }


def service_list():
    return [service(category) for category in offered()]


def definition(category):
    return {
        "service_code": service_code(category),
        "attributes": [a.as_dict() for a in attributes.for_category(category)],
    }
