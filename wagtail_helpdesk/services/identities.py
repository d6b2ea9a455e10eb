"""Whose ticket is it: the one rule of declared and verified identities.

Only a *verified* identity — a SPID/CIE login, or an operator acting on a
citizen's record — attaches anything to an existing citizen record or
changes it. A *declared* identity (typed into a website form, sent by an
Open311 client or an API call, an e-mail's sender) is a claim: it becomes a
record of its own (:attr:`Citizen.declared`) that belongs to its ticket, is
used to answer that ticket only, and is never looked up, completed, merged or
shown from another record — even when its fiscal code is somebody's.

An operator who has checked a declared request (e.g. by phone) links the
ticket to the right citizen with :func:`link_citizen`: one deliberate step,
recorded in the timeline. Until then the ticket is not in that citizen's
personal area and nothing is sent to that citizen's addresses.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from ..errors import GuardFailed
from ..fiscalcode import is_valid_fiscal_code, normalise_fiscal_code
from ..models import Citizen, EventKind
from ..permissions import ticket_policy
from ..workflow import Status
from . import core
from .actors import is_operator

VERIFIED, DECLARED = "verified", "declared"


def declared_citizen(*, given_name="", family_name="", fiscal_code="", email="", phone=""):
    """A new declared record holding exactly what was typed.

    The fiscal code is checked (a mistyped one gets a clear error) and kept
    as a claim; no existing record is looked up by it.
    """
    code = normalise_fiscal_code(fiscal_code)
    if code and not is_valid_fiscal_code(code):
        raise GuardFailed(_("Check the fiscal code."),
                          {"fiscal_code": _("This is not a valid fiscal code.")})
    return Citizen.objects.create(
        declared=True, declared_fiscal_code=code or "",
        given_name=(given_name or "").strip(), family_name=(family_name or "").strip(),
        email=(email or "").strip(), phone=(phone or "").strip(),
    )


def is_declared(citizen):
    return citizen is not None and citizen.declared


def claimed_citizen(ticket):
    """The verified, not erased citizen whose fiscal code the ticket's declared
    identity gives, or None: what the operator is offered to link to."""
    declared = ticket.citizen
    if not is_declared(declared) or not declared.declared_fiscal_code:
        return None
    return (Citizen.objects.filter(fiscal_code=declared.declared_fiscal_code, declared=False,
                                   erased_at__isnull=True).first())


def link_citizen(ticket, actor, citizen, *, expected_version=None):
    """Make the verified ``citizen`` the ticket's citizen (Collega al cittadino).

    Only an operator who may work on the ticket does it, only for a ticket
    that came with a declared identity, only to a verified record. The
    declared record stays with the ticket (``declared_contact``) and the
    timeline records who linked it to whom.
    """
    if not is_operator(actor):
        raise PermissionDenied(_("Only an operator can link a ticket to a citizen."))
    if citizen is None or citizen.declared or citizen.erased_at is not None:
        raise GuardFailed(_("Choose a registered citizen."),
                          {"citizen": _("Choose a registered citizen.")})
    now = core.now()
    with core.atomic_change():
        t = core.lock(ticket, expected_version)
        if not ticket_policy().user_has_permission_for_instance(actor, "change", t):
            raise PermissionDenied(_("You cannot work on the tickets of this office."))
        if (t.status == Status.DRAFT or not is_declared(t.citizen)
                or t.citizen.erased_at is not None):
            raise GuardFailed(_("This ticket is already linked to a registered citizen."))
        declared = t.citizen
        if not declared.declared_fiscal_code or citizen.fiscal_code != declared.declared_fiscal_code:
            raise GuardFailed(_("Only the registered citizen with the declared fiscal code can "
                                "be linked."), {"citizen": _("Choose a registered citizen.")})
        t.declared_contact, t.citizen = declared, citizen
        core.save(t, ["citizen", "declared_contact"], now)
        core.record(t, EventKind.CITIZEN_LINKED, actor, now=now,
                    data={"citizen": citizen.pk, "declared": declared.pk})
    return t
