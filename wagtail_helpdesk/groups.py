"""The default groups, created (and completed, never trimmed) after migrate."""

from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

OPERATORS = "Helpdesk operatori"
SUPERVISORS = "Helpdesk responsabili"
ADMINISTRATORS = "Helpdesk amministratori"

_CATALOGUE = ("office", "servicecategory", "service", "reportcategory", "resolutiontype")

#: Everyone manages their own quick replies; which ones (personal, their offices',
#: every office's) is decided by wagtail_helpdesk.quickreplies, not by the group.
_QUICK_REPLIES = [("wagtail_helpdesk", f"{action}_quickreply")
                  for action in ("add", "change", "delete", "view")]

#: group → list of (app_label, codename)
GROUP_PERMISSIONS = {
    OPERATORS: [
        ("wagtailadmin", "access_admin"),
        ("wagtail_helpdesk", "add_ticket"),
        ("wagtail_helpdesk", "change_ticket"),
        ("wagtail_helpdesk", "view_ticket"),
        ("wagtail_helpdesk", "add_citizen"),
        ("wagtail_helpdesk", "change_citizen"),
        ("wagtail_helpdesk", "view_citizen"),
        *[("wagtail_helpdesk", f"view_{m}") for m in _CATALOGUE],
        *_QUICK_REPLIES,
    ],
    SUPERVISORS: [
        ("wagtailadmin", "access_admin"),
        ("wagtail_helpdesk", "add_ticket"),
        ("wagtail_helpdesk", "change_ticket"),
        ("wagtail_helpdesk", "view_ticket"),
        ("wagtail_helpdesk", "view_helpdesk_dashboard"),
        ("wagtail_helpdesk", "add_citizen"),
        ("wagtail_helpdesk", "change_citizen"),
        ("wagtail_helpdesk", "view_citizen"),
        *[("wagtail_helpdesk", f"view_{m}") for m in _CATALOGUE],
        ("wagtail_helpdesk", "change_service"),
        ("wagtail_helpdesk", "change_reportcategory"),
        *_QUICK_REPLIES,
    ],
    ADMINISTRATORS: [
        ("wagtailadmin", "access_admin"),
        ("wagtail_helpdesk", "add_ticket"),
        ("wagtail_helpdesk", "change_ticket"),
        ("wagtail_helpdesk", "view_ticket"),
        ("wagtail_helpdesk", "view_all_tickets"),
        ("wagtail_helpdesk", "view_helpdesk_dashboard"),
        ("wagtail_helpdesk", "erase_personal_data"),
        ("wagtail_helpdesk", "add_citizen"),
        ("wagtail_helpdesk", "change_citizen"),
        ("wagtail_helpdesk", "view_citizen"),
        ("wagtail_helpdesk", "change_helpdesksettings"),
        *[
            ("wagtail_helpdesk", f"{action}_{m}")
            for m in _CATALOGUE
            for action in ("add", "change", "delete", "view")
        ],
        *_QUICK_REPLIES,
    ],
}


def ensure_default_groups(app_config=None, using="default", **kwargs):
    """Create the three helpdesk groups and give them their permissions.

    Idempotent; permissions an administrator added by hand are kept. Connected
    to ``post_migrate``: the app's own permissions are created first, as this
    may run before django.contrib.auth's handler does it.
    """
    if app_config is not None:
        create_permissions(app_config, verbosity=0, using=using)
    wanted = {p for perms in GROUP_PERMISSIONS.values() for p in perms}
    query = Q()
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = {
        (p.content_type.app_label, p.codename): p
        for p in Permission.objects.filter(query).select_related("content_type")
    }
    for name, perms in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*[found[p] for p in perms if p in found])
