"""Citizens (lookup by fiscal code) and the caller themselves."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import ValidationError

from ..identity import is_valid_fiscal_code, normalise_fiscal_code
from ..models import Citizen, Office
from ..permissions import ticket_policy
from . import serialise
from .schemas import CitizenOut, Ref, UserRef

router = Router(tags=["people"])


@router.get("/citizens/", response=list[CitizenOut], summary="Find a citizen by fiscal code",
            description="At most one citizen: the one with this fiscal code (erased citizens "
                        "are never found).")
def citizens(request, fiscal_code: str = Query(..., max_length=32)):
    if not request.user.has_perm("wagtail_helpdesk.view_citizen"):
        raise PermissionDenied(_("You cannot look citizens up."))
    code = normalise_fiscal_code(fiscal_code)
    if not is_valid_fiscal_code(code):
        raise ValidationError([{"loc": ("query", "fiscal_code"),
                                "msg": _("This is not a valid fiscal code.")}])
    found = Citizen.objects.filter(fiscal_code=code, erased_at__isnull=True)[:1]
    return [serialise.citizen(person) for person in found]


class MeOut(Schema):
    user: UserRef
    offices: list[Ref]
    sees_all_offices: bool
    can_change_tickets: bool
    can_add_tickets: bool


@router.get("/me/", response=MeOut, summary="Who this token acts as")
def me(request):
    user, policy = request.user, ticket_policy()
    return {"user": serialise.user_ref(user),
            "offices": [{"id": o.pk, "name": o.name}
                        for o in Office.objects.filter(memberships__user=user).order_by("name")],
            "sees_all_offices": policy.sees_all_offices(user),
            "can_change_tickets": policy.user_has_permission(user, "change"),
            "can_add_tickets": policy.user_has_permission(user, "add")}
