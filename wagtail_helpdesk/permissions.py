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

import functools

from django.db import connections, router
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
    """Drop the cached office ids and :func:`prime`'s answers (after
    membership or permission changes)."""
    for name in (_OFFICES_CACHE, _ANSWERS_CACHE):
        if hasattr(user, name):
            delattr(user, name)


#: The answers of :func:`prime`: ``{action: bool}`` on the user object.
_ANSWERS_CACHE = "_helpdesk_ticket_answers"


def _model_backends_only():
    """Whether every authentication backend that answers permission questions
    answers as Django's ``ModelBackend`` does (Django's own, or the
    helpdesk's, which reads the same permissions in fewer queries), so that
    :func:`prime` reads the same answer."""
    from django.contrib.auth import get_backends
    from django.contrib.auth.backends import ModelBackend

    from .auth.backends import ModelBackend as HelpdeskModelBackend

    same = ("has_perm", "get_all_permissions", "_get_permissions",
            "_get_user_permissions", "_get_group_permissions")
    answering = [b for b in get_backends() if hasattr(b, "has_perm")]
    return bool(answering) and all(
        any(isinstance(b, base)
            and all(getattr(type(b), name) is getattr(base, name) for name in same)
            for base in (ModelBackend, HelpdeskModelBackend))
        for b in answering)


@functools.cache
def _prime_sql(alias, codenames, with_offices):
    """The statement of :func:`prime`: ``ModelBackend``'s two permission
    queries narrowed to ``codenames`` of one app, and the user's offices.
    Parameters: the app label, the codenames, the user's id twice (and once
    more with the offices). Rows: ``(0, codename, None)``, ``(1, None, office id)``.
    Made once per process from the models' tables."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    q = connections[alias].ops.quote_name
    user_model = get_user_model()

    def through(model, name):
        field = model._meta.get_field(name)
        table = field.remote_field.through._meta
        return (q(table.db_table), q(table.get_field(field.m2m_field_name()).column),
                q(table.get_field(field.m2m_reverse_field_name()).column))

    user_perms, up_user, up_perm = through(user_model, "user_permissions")
    user_groups, ug_user, ug_group = through(user_model, "groups")
    group_perms, gp_group, gp_perm = through(Group, "permissions")
    perm, ctype = Permission._meta, ContentType._meta
    pk, ct_pk = q(perm.pk.column), q(ctype.pk.column)
    codename, app_label = q(perm.get_field("codename").column), q(ctype.get_field("app_label").column)
    content_type = q(perm.get_field("content_type").column)
    marks = ", ".join(["%s"] * len(codenames))
    # Names from the models, every value a parameter: no injection.
    sql = (
        f"SELECT 0, p.{codename}, NULL FROM {q(perm.db_table)} p"  # noqa: S608
        f" INNER JOIN {q(ctype.db_table)} ct ON ct.{ct_pk} = p.{content_type}"
        f" WHERE ct.{app_label} = %s AND p.{codename} IN ({marks}) AND ("
        f"p.{pk} IN (SELECT up.{up_perm} FROM {user_perms} up WHERE up.{up_user} = %s)"
        f" OR p.{pk} IN (SELECT gp.{gp_perm} FROM {group_perms} gp INNER JOIN {user_groups} ug"
        f" ON ug.{ug_group} = gp.{gp_group} WHERE ug.{ug_user} = %s))"
    )
    if with_offices:
        membership = OfficeMembership._meta
        sql += (f" UNION ALL SELECT 1, NULL, m.{q(membership.get_field('office').column)}"  # noqa: S608
                f" FROM {q(membership.db_table)} m"
                f" WHERE m.{q(membership.get_field('user').column)} = %s")
    return sql


def prime(user, actions):
    """Read, in one query, whether ``user`` may do each of ``actions`` on
    tickets and the user's offices, and keep both on the user object: the
    policy's ``user_has_permission`` and :func:`office_ids_for` then ask the
    database nothing for them.

    The permission part is ``ModelBackend``'s own query (the user's and their
    groups' permissions) narrowed to the few permissions asked, where
    ``has_perm`` reads every permission the user holds (two queries). Where
    that makes no difference (permissions already read for this user object,
    a superuser, an inactive user) or might not be the same answer (other
    authentication backends answer permissions), it reads nothing: the
    policy and :func:`office_ids_for` read what they need as usual."""
    known = getattr(user, _ANSWERS_CACHE, {})
    if not (getattr(user, "is_authenticated", False) and user.is_active
            and not user.is_superuser and not hasattr(user, "_perm_cache")
            and not (set(actions) <= set(known) and hasattr(user, _OFFICES_CACHE))
            and _model_backends_only()):
        return
    policy = ticket_policy()
    names = {policy._get_permission_codename(action): action for action in actions}
    codenames = tuple(sorted(names))
    with_offices = not hasattr(user, _OFFICES_CACHE)
    alias = router.db_for_read(OfficeMembership)
    from django.contrib.auth.models import Permission

    if router.db_for_read(Permission) != alias:  # auth elsewhere: has_perm reads it
        return
    params = [policy.app_label, *codenames, user.pk, user.pk] + ([user.pk] if with_offices else [])
    with connections[alias].cursor() as cursor:
        cursor.execute(_prime_sql(alias, codenames, with_offices), params)
        rows = cursor.fetchall()
    answers, offices = {**known, **dict.fromkeys(actions, False)}, set()
    for kind, codename, office in rows:
        if kind:
            offices.add(office)
        else:
            answers[names[codename]] = True
    setattr(user, _ANSWERS_CACHE, answers)
    if with_offices:
        setattr(user, _OFFICES_CACHE, frozenset(offices))


def office_scope(user, offices):
    """The tickets of ``offices`` (ids or a subquery) and ``user``'s own
    without an office yet, as a filter: who works a ticket, consults aside."""
    return Q(office_id__in=offices) | Q(office__isnull=True, created_by=user)


class TicketPermissionPolicy(ModelPermissionPolicy):
    def _get_permission_codename(self, action):
        if action in CUSTOM_CODENAMES:
            return CUSTOM_CODENAMES[action]
        return super()._get_permission_codename(action)

    def user_has_permission(self, user, action):
        if not (user.is_active and user.is_authenticated):
            return False
        answers = getattr(user, _ANSWERS_CACHE, None)
        if answers is not None and action in answers and not hasattr(user, "_perm_cache"):
            return answers[action]  # read by prime(); Django's own cache, once read, rules
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
            scope = office_scope(user, sorted(offices))
            return qs.filter(scope | Q(pk__in=consults) if consults else scope)
        scope = office_scope(user, OfficeMembership.objects.filter(user=user).values("office_id"))
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
