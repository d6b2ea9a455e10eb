"""Finding citizens and reading their records: the one rule of the admin's
Citizens list, "Crea ticket" and the REST API.

* **Find** (to open a ticket for): whoever may add tickets finds any citizen —
  not erased, not a declared record (which belongs to the ticket it came with)
  — by an exact fiscal code or by name words (:func:`matching`), and is shown
  only what tells namesakes apart (:class:`CitizenMatch`: the name, the birth
  year, a masked fiscal code and e-mail).
* **Read** (the full record: fiscal code, e-mail, phone, tickets): only users
  with the citizens' ``view`` or ``change`` permission, and only the citizens
  with a ticket they may open — every citizen for users who see every office
  (:func:`readable_citizens`).

A search is one query whatever it finds (pinned by tests).
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Value
from django.utils.translation import gettext_lazy as _
from wagtail.permissions import policy_registry

from ..errors import PermissionDenied
from ..fiscalcode import birth_year as fiscal_birth_year
from ..fiscalcode import is_valid_fiscal_code, normalise_fiscal_code
from ..models import Citizen
from ..permissions import ticket_policy
from ..tickets.queries import visible_tickets
from ..workflow import Status

#: The most citizens a search answers.
SEARCH_LIMIT = 20
#: The most words of a name search that count.
NAME_WORDS = 4
#: Who may be found: erased citizens and declared records never are.
FINDABLE = Q(erased_at__isnull=True, declared=False)


@dataclass(frozen=True)
class CitizenMatch:
    """What finding a citizen shows: enough to tell two namesakes apart, not
    to reach them."""

    id: int
    given_name: str
    family_name: str
    birth_year: int | None
    masked_fiscal_code: str
    masked_email: str
    masked_phone: str = ""

    @property
    def full_name(self):
        return " ".join(p for p in (self.given_name, self.family_name) if p)


def mask_fiscal_code(code):
    """``RSSMRA85T10A562S`` → ``RSS************S``."""
    return f"{code[:3]}{'*' * (len(code) - 4)}{code[-1:]}" if code else ""


def mask_email(email):
    """``mario.rossi@example.it`` → ``m***@e***.it``."""
    local, _at, domain = (email or "").partition("@")
    if not domain:
        return ""
    name, dot, top = domain.rpartition(".")
    return f"{local[:1]}***@{(name or top)[:1]}***{dot}{top if name else ''}"


def mask_phone(phone):
    """``+39 333 123 4567`` → ``•••567``: the last three digits."""
    digits = "".join(c for c in phone or "" if c.isdigit())
    return f"•••{digits[-3:]}" if len(digits) >= 6 else ""


def birth_year(code):
    """The year of birth a fiscal code tells (omocodia included), else None."""
    return fiscal_birth_year(code)


def citizen_match(citizen):
    """What finding ``citizen`` shows (see :class:`CitizenMatch`)."""
    return CitizenMatch(id=citizen.pk, given_name=citizen.given_name,
                        family_name=citizen.family_name,
                        birth_year=birth_year(citizen.fiscal_code),
                        masked_fiscal_code=mask_fiscal_code(citizen.fiscal_code or ""),
                        masked_email=mask_email(citizen.email),
                        masked_phone=mask_phone(citizen.phone))


def may_find_citizens(user):
    return ticket_policy().user_has_permission(user, "add")


def may_read_citizens(user):
    return policy_registry.get_by_type(Citizen).user_has_any_permission(user, ["view", "change"])


def may_search_citizens(user):
    return may_find_citizens(user) or may_read_citizens(user)


def readable(user):
    """Whether ``user`` may read a citizen's full record, as an expression on
    the citizen (True, False, or a ticket of theirs exists)."""
    if not may_read_citizens(user):
        return Value(False)
    if ticket_policy().sees_all_offices(user):
        return Value(True)
    # A submitted ticket: a draft (which its author may delete without a
    # trace) never opens a record.
    tickets = visible_tickets(user).exclude(status=Status.DRAFT)
    return Exists(tickets.filter(citizen_id=OuterRef("pk")))


def readable_citizens(user):
    """The citizens whose full record ``user`` may read (erased ones included:
    their page says so)."""
    if not may_read_citizens(user):
        return Citizen.objects.none()
    return Citizen.objects.alias(readable=readable(user)).filter(readable=True)


def fiscal_code_in(text):
    """``text`` as a fiscal code (normalised) when it is a valid one, else ""."""
    return normalise_fiscal_code(text) if is_valid_fiscal_code(text) else ""


def matching(queryset, text, *, by_email=False):
    """The citizens of ``queryset`` ``text`` names: a valid fiscal code (any
    shape: ``TINIT-``, lower case, spaces) exactly, else every one of its first
    words in the given or family name — or, ``by_email`` (where e-mails may be
    read), an exact e-mail address."""
    text = (text or "").strip()
    if not text:
        return queryset.none()
    if code := fiscal_code_in(text):
        return queryset.filter(fiscal_code=code)
    if by_email and "@" in text:
        return queryset.filter(email__iexact=text)
    query = Q()
    for word in text.split()[:NAME_WORDS]:
        query &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    return queryset.filter(query)


def search_citizens(actor, text):
    """The citizens ``actor`` finds with ``text`` (at most ``SEARCH_LIMIT``),
    each with ``readable`` (``actor`` may read the full record) and ``match``
    (what may be shown otherwise). Whoever may add tickets finds any citizen;
    others who may read citizens, only those."""
    if not may_search_citizens(actor):
        raise PermissionDenied(_("You cannot look citizens up."))
    citizens = Citizen.objects.filter(FINDABLE).annotate(
        readable=readable(actor),
        # How many tickets they sent: one more way to tell namesakes apart.
        ticket_count=Count("tickets", filter=~Q(tickets__status=Status.DRAFT)))
    if not may_find_citizens(actor):
        citizens = citizens.filter(readable=True)
    found = list(matching(citizens, text).order_by("family_name", "given_name", "pk")
                 [:SEARCH_LIMIT])
    for citizen in found:
        citizen.match = citizen_match(citizen)
    return found
