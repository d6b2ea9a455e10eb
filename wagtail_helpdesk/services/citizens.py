"""Finding and registering citizens (operators taking a call or a visit)."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed, PermissionDenied
from ..identity import is_valid_fiscal_code, normalise_fiscal_code
from ..models import Citizen
from ..permissions import ticket_policy

SEARCH_LIMIT = 20


def _require_operator(actor):
    if not ticket_policy().user_has_permission(actor, "add"):
        raise PermissionDenied(_("You cannot register citizens."))


def search_citizens(actor, text):
    """Citizens matching a fiscal code (exact) or name words; at most 20."""
    _require_operator(actor)
    text = (text or "").strip()
    if not text:
        return []
    qs = Citizen.objects.filter(erased_at__isnull=True)
    if is_valid_fiscal_code(text):
        return list(qs.filter(fiscal_code=normalise_fiscal_code(text))[:SEARCH_LIMIT])
    query = Q()
    for word in text.split()[:4]:
        query &= Q(family_name__icontains=word) | Q(given_name__icontains=word)
    return list(qs.filter(query).order_by("family_name", "given_name")[:SEARCH_LIMIT])


def complete_blanks(citizen, values):
    """Fill the citizen's empty fields from ``values``; never overwrite one."""
    changed = []
    for field, value in values.items():
        value = (value or "").strip()
        if value and not getattr(citizen, field):
            setattr(citizen, field, value)
            changed.append(field)
    if changed:
        citizen.save(update_fields=[*changed, "updated_at"])
    return citizen


def register_citizen(actor, *, given_name, family_name, fiscal_code="", email="", phone=""):
    """The citizen with this fiscal code (contacts completed, never overwritten),
    or a new one. Without a fiscal code a new record is always created."""
    _require_operator(actor)
    given_name, family_name = (given_name or "").strip(), (family_name or "").strip()
    if not (given_name and family_name):
        raise GuardFailed(
            _("Enter the citizen's given and family name."),
            {k: _("This field is required.") for k, v in
             (("given_name", given_name), ("family_name", family_name)) if not v},
        )
    code = normalise_fiscal_code(fiscal_code)
    if code and not is_valid_fiscal_code(code):
        raise GuardFailed(_("Check the fiscal code."),
                          {"fiscal_code": _("This is not a valid fiscal code.")})
    if code:
        existing = Citizen.objects.filter(fiscal_code=code).first()
        if existing is not None:
            return complete_blanks(existing, {"email": email, "phone": phone})
    return Citizen.objects.create(given_name=given_name, family_name=family_name,
                                  fiscal_code=code or None, email=(email or "").strip(),
                                  phone=(phone or "").strip())


def set_citizen_preferences(actor, *, notify_email, notify_app_io, email):
    """A citizen's own choice of channels (personal area) and contact address."""
    from .actors import CitizenActor

    if not isinstance(actor, CitizenActor) or actor.citizen.erased_at:
        raise PermissionDenied(_("Only the citizen can change their preferences."))
    citizen = actor.citizen
    citizen.notify_email, citizen.notify_app_io = bool(notify_email), bool(notify_app_io)
    citizen.email = (email or "").strip()
    citizen.save(update_fields=["notify_email", "notify_app_io", "email", "updated_at"])
    return citizen
