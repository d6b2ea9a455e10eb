"""The default groups, created (and completed, never trimmed) after migrate."""

from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db.models import Q

OPERATORS = "Helpdesk operatori"
SUPERVISORS = "Helpdesk responsabili"
ADMINISTRATORS = "Helpdesk amministratori"

#: Apps whose permissions the groups are given.
PERMISSION_APPS = ("wagtailadmin", "wagtailcore", "wagtail_helpdesk")

_CATALOGUE = ("office", "servicecategory", "service", "reportcategory", "resolutiontype")
#: The SPID/CIE configuration: administrators only.
_LOGIN = ("identityprovider", "trustmark")
#: The clients of the integrations (Open311 API keys): administrators only.
_INTEGRATIONS = ("open311client",)

#: Their own REST API tokens (Settings → API tokens; wagtail.api.v3 installed):
#: supervisors and administrators, for their scripts and integrations.
_API_TOKENS = [("wagtailcore", f"{action}_apitoken")
               for action in ("add", "change", "delete", "view")]
#: Everyone manages their own quick replies; which ones (personal, their offices',
#: every office's) is decided by wagtail_helpdesk.quickreplies, not by the group.
_QUICK_REPLIES = [("wagtail_helpdesk", f"{action}_quickreply")
                  for action in ("add", "change", "delete", "view")]

#: Labels: supervisors manage their offices' vocabulary, administrators the
#: global labels too (which ones is decided by wagtail_helpdesk.admin.labels).
_LABELS = [("wagtail_helpdesk", f"{action}_label") for action in ("add", "change", "delete", "view")]

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
        ("wagtail_helpdesk", "view_label"),
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
        *_LABELS,
        *_QUICK_REPLIES,
        *_API_TOKENS,
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
        ("wagtail_helpdesk", "change_opendatasettings"),
        *_LABELS,
        *[
            ("wagtail_helpdesk", f"{action}_{m}")
            for m in (*_CATALOGUE, *_LOGIN, *_INTEGRATIONS)
            for action in ("add", "change", "delete", "view")
        ],
        *_QUICK_REPLIES,
        *_API_TOKENS,
    ],
}


def last_signalled_app():
    """The last app post_migrate is sent for (Django skips apps without models)."""
    return [c for c in django_apps.get_app_configs() if c.models_module is not None][-1]


def ensure_default_groups(app_config=None, using="default", **kwargs):
    """Create the three helpdesk groups and give them their permissions.

    Idempotent; permissions an administrator added by hand are kept. Connected
    to ``post_migrate``, it acts once, for the last installed app, when every
    app has been migrated; the permissions it hands out (its own and Wagtail's
    ``access_admin``) are created first, since after a ``flush`` nothing else
    may have recreated them yet.
    """
    if app_config is not None:
        if app_config is not last_signalled_app():
            return
        for label in PERMISSION_APPS:
            create_permissions(django_apps.get_app_config(label), verbosity=0, using=using)
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
