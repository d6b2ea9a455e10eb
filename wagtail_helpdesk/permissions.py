"""Who may see and act on which ticket.

Operators and supervisors work on the tickets of the offices they belong to;
users with ``view_all_tickets`` (helpdesk administrators) and superusers on
every ticket. The policy is registered with Wagtail's permission-policy
registry and is the one the services layer, the admin and the API consult.

Actions are the model permissions ``add``, ``change``, ``delete``, ``view``,
plus ``view_all`` (every office), ``dashboard`` (supervisor metrics) and
``erase`` (erase personal data).

A colleague of another office a ticket was shared with for a consult
(:class:`~wagtail_helpdesk.models.TicketConsult`) has ``view`` on that ticket
only: they read it and write private notes (the services layer allows notes
to consultants), nothing else. Checked on every request: ending a consult
takes effect at once.
"""

from django.db.models import F, IntegerField, Q, Value
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import policy_registry

from .models.catalogue import OfficeMembership
from .models.consults import TicketConsult


def _citizen_draft(ticket):
    return ticket.status == "draft" and ticket.opened_by_citizen


CUSTOM_CODENAMES = {
    "view_all": "view_all_tickets",
    "dashboard": "view_helpdesk_dashboard",
    "erase": "erase_personal_data",
}

_OFFICES_CACHE = "_helpdesk_office_ids"


def office_ids_for(user):
    """The ids of the offices ``user`` belongs to (cached on the user object)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    if not hasattr(user, _OFFICES_CACHE):
        ids = OfficeMembership.objects.filter(user=user).values_list("office_id", flat=True)
        setattr(user, _OFFICES_CACHE, frozenset(ids))
    return getattr(user, _OFFICES_CACHE)


def _scope_ids(user, with_consults):
    """``(office ids, ids of the tickets shared with user for a consult)``.

    The office ids are cached on the user object (:func:`office_ids_for`);
    the consults never are (ending one takes effect at once): with both to
    read, one query (``UNION ALL``), else at most one."""
    if not with_consults:
        return office_ids_for(user), []
    consults = TicketConsult.objects.filter(consultant_id=user.pk).order_by()
    if hasattr(user, _OFFICES_CACHE):
        return office_ids_for(user), list(consults.values_list("ticket_id", flat=True))
    rows = (OfficeMembership.objects.filter(user_id=user.pk).order_by()
            .annotate(_kind=Value(0, output_field=IntegerField()), _ref=F("office_id"))
            .values_list("_kind", "_ref")
            .union(consults.annotate(_kind=Value(1, output_field=IntegerField()),
                                     _ref=F("ticket_id")).values_list("_kind", "_ref"),
                   all=True))
    office_ids, consult_ids = set(), []
    for kind, ref in rows:
        if kind:
            consult_ids.append(ref)
        else:
            office_ids.add(ref)
    setattr(user, _OFFICES_CACHE, frozenset(office_ids))
    return getattr(user, _OFFICES_CACHE), consult_ids


def forget_offices(user):
    """Drop the cached office ids (after membership changes)."""
    if hasattr(user, _OFFICES_CACHE):
        delattr(user, _OFFICES_CACHE)


class TicketPermissionPolicy(ModelPermissionPolicy):
    def _get_permission_codename(self, action):
        if action in CUSTOM_CODENAMES:
            return CUSTOM_CODENAMES[action]
        return super()._get_permission_codename(action)

    def user_has_permission(self, user, action):
        if not (user.is_active and user.is_authenticated):
            return False
        return super().user_has_permission(user, action)

    def sees_all_offices(self, user):
        return user.is_active and (user.is_superuser or self.user_has_permission(user, "view_all"))

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if _citizen_draft(instance):
            return False  # a citizen's unsent draft is not the office's yet
        if self.sees_all_offices(user):
            return True
        if instance.office_id is None:
            # A draft with no office yet belongs to whoever started it.
            if instance.created_by_id is not None and instance.created_by_id == user.pk:
                return True
        elif instance.office_id in office_ids_for(user):
            return True
        return action == "view" and is_consultant(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, a, instance) for a in actions)

    def instances_user_has_any_permission_for(self, user, actions, *, as_lists=False):
        """The tickets ``user`` may do any of ``actions`` on: one query (with
        ``as_lists``, after one reading the ids).

        ``as_lists`` (the ticket list at scale): the user's offices and
        consults are read first (one query, the offices then cached on the
        user object) and the scope is made of lists of ids — every arm of the
        OR is then an index condition (PostgreSQL ORs the index scans:
        ``BitmapOr``) instead of a hashed subquery checked on every row."""
        qs = self.model._default_manager.exclude(status="draft", opened_by_citizen=True)
        if not self.user_has_any_permission(user, actions):
            return qs.none()
        if self.sees_all_offices(user):
            return qs
        if as_lists:
            offices, consults = _scope_ids(user, with_consults="view" in actions)
            scope = Q(office_id__in=sorted(offices)) | Q(office__isnull=True, created_by=user)
            return qs.filter(scope | Q(pk__in=consults) if consults else scope)
        offices = OfficeMembership.objects.filter(user=user).values("office_id")
        scope = Q(office_id__in=offices) | Q(office__isnull=True, created_by=user)
        if "view" in actions:  # a subquery: still one query
            scope |= Q(pk__in=TicketConsult.objects.filter(consultant=user).values("ticket_id"))
        return qs.filter(scope)

    def _sees_all_offices_q(self):
        """Users who see every office (superusers, ``view_all``), as a filter."""
        return Q(pk__in=self.users_with_permission("view_all").values("pk")) | Q(
            is_superuser=True
        )

    def users_with_any_permission_for_offices(self, actions, office_ids):
        """The users with any of ``actions`` on the tickets of the offices
        ``office_ids``: their members and those who see every office."""
        members = OfficeMembership.objects.filter(office_id__in=office_ids).values("user_id")
        return self.users_with_any_permission(actions).filter(
            Q(pk__in=members) | self._sees_all_offices_q())

    def users_with_any_permission_for_instance(self, actions, instance):
        users = self.users_with_any_permission(actions)
        if _citizen_draft(instance):
            return users.none()
        everywhere = self._sees_all_offices_q()
        if instance.office_id is None:
            mine = Q(pk=instance.created_by_id) if instance.created_by_id else Q(pk__in=[])
        else:
            mine = Q(pk__in=OfficeMembership.objects.filter(
                office_id=instance.office_id).values("user_id"))
        if "view" in actions and instance.pk is not None:
            mine |= Q(pk__in=TicketConsult.objects.filter(ticket_id=instance.pk)
                      .values("consultant_id"))
        return users.filter(mine | everywhere)


def is_consultant(user, ticket):
    """Whether ``ticket`` is shared with ``user`` for a consult now (one query;
    never cached, so that an ended consult ends at once)."""
    if ticket.pk is None or not getattr(user, "is_authenticated", False):
        return False
    return TicketConsult.objects.filter(ticket_id=ticket.pk, consultant_id=user.pk).exists()


def ticket_policy():
    """The registered policy for tickets."""
    from .models import Ticket

    return policy_registry.get_by_type(Ticket)
