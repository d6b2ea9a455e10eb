"""Registering citizens (operators taking a call or a visit) and the citizen's
own preferences. Finding them: :mod:`.lookup`."""

from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed, PermissionDenied
from ..fiscalcode import is_valid_fiscal_code, normalise_fiscal_code
from ..models import Citizen
from ..permissions import ticket_policy
from .actors import actor_user


def _require_operator(actor):
    if not ticket_policy().user_has_permission(actor, "add"):
        raise PermissionDenied(_("You cannot register citizens."))


#: The Wagtail audit-log action written when an operator completes a
#: registered citizen's empty contacts while registering a caller.
COMPLETE_ACTION = "wagtail_helpdesk.complete_citizen"


def complete_blanks(actor, citizen, values):
    """Fill the verified ``citizen``'s empty fields from ``values``, never
    overwriting one; recorded in the audit log (field names only).

    Only for an operator acting on a registered record: a declared identity
    never completes anybody's record (see :mod:`.identities`).
    """
    from wagtail.log_actions import log

    if citizen.declared:
        raise ValueError("declared records are never completed")
    changed = []
    for field, value in values.items():
        value = (value or "").strip()
        if value and not getattr(citizen, field):
            setattr(citizen, field, value)
            changed.append(field)
    if changed:
        citizen.save(update_fields=[*changed, "updated_at"])
        log(instance=citizen, action=COMPLETE_ACTION, user=actor_user(actor),
            data={"fields": changed})
    return citizen


def register_citizen(actor, *, given_name, family_name, fiscal_code="", email="", phone=""):
    """The registered citizen with this fiscal code (empty contacts completed,
    never overwritten: the operator is acting on the record), or a new
    registered one. Without a fiscal code a new record is always created."""
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
        existing = Citizen.objects.filter(fiscal_code=code, declared=False).first()
        if existing is not None:
            return complete_blanks(actor, existing, {"email": email, "phone": phone})
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
