from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WagtailHelpdeskConfig(AppConfig):
    name = "wagtail_helpdesk"
    label = "wagtail_helpdesk"
    verbose_name = _("Helpdesk")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from wagtail.permissions import register_permission_policy

        from . import checks  # noqa: F401  (registers the system checks)
        from .groups import ensure_default_groups
        from .models import Ticket
        from .permissions import TicketPermissionPolicy

        register_permission_policy(Ticket, TicketPermissionPolicy(Ticket))
        # Runs after every app's permissions exist (they are created post_migrate too,
        # by django.contrib.auth, which comes first in INSTALLED_APPS).
        post_migrate.connect(ensure_default_groups, sender=self,
                             dispatch_uid="wagtail_helpdesk_default_groups")
