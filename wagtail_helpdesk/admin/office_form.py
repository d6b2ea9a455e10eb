"""The office form: its members are chosen among the people who can use the
Wagtail admin, not among every account of the site (citizens included)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from wagtail.admin.forms import WagtailAdminModelForm


def staff_users(also=None):
    """Active users who may log in to the admin (superusers, or through a group
    or their own permissions), plus whoever ``also`` (a Q) matches."""
    access = Permission.objects.filter(codename="access_admin",
                                       content_type__app_label="wagtailadmin")
    wanted = (Q(is_superuser=True) | Q(groups__permissions__in=access)
              | Q(user_permissions__in=access))
    if also is not None:
        wanted |= also
    return (
        get_user_model().objects.filter(wanted, is_active=True)
        .distinct().order_by("first_name", "last_name", "username")
    )


class OfficeForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("members")
        if field is not None:
            # Current members stay listed even if they lost admin access.
            field.queryset = staff_users(
                Q(helpdesk_memberships__office=self.instance) if self.instance.pk else None)
