"""Citizens (lookup by fiscal code) and the caller themselves."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.errors import ValidationError

from ..models import Office
from ..permissions import ticket_policy
from ..services import lookup
from . import serialise
from .schemas import CitizenOut, Ref, UserRef

router = Router(tags=["people"])


@router.get("/citizens/", response=list[CitizenOut], summary="Find a citizen by fiscal code",
            description="At most one citizen: the one with this fiscal code (erased citizens "
                        "and declared records are never found). Whoever may add tickets finds "
                        "any citizen, to open a ticket for, but reads their full record "
                        "(readable: true) only if the citizen has a ticket the caller may "
                        "open, or the caller sees every office; otherwise the full fields are "
                        "null. Others need view_citizen and find only citizens they may read.")
def citizens(request, fiscal_code: str = Query(..., max_length=32)):
    if not lookup.may_search_citizens(request.user):
        raise PermissionDenied(_("You cannot look citizens up."))
    code = lookup.fiscal_code_in(fiscal_code)
    if not code:
        raise ValidationError([{"loc": ("query", "fiscal_code"),
                                "msg": _("This is not a valid fiscal code.")}])
    return [serialise.citizen(person, readable=person.readable)
            for person in lookup.search_citizens(request.user, code)]


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
