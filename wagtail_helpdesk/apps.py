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

        from . import (
            checks,  # noqa: F401  (registers the system checks)
            choices_cache,  # noqa: F401  (connects its invalidation signals)
        )
        from .admin.mailboxes import MailboxPermissionPolicy
        from .ai import checks as ai_checks  # noqa: F401
        from .conversations import checks as chat_checks  # noqa: F401
        from .groups import ensure_default_groups
        from .models import Label, Mailbox, QuickReply, Ticket
        from .permissions import TicketPermissionPolicy
        from .quickreplies.policy import quick_reply_policy
        from .tickets import checks as ticket_checks  # noqa: F401
        from .tickets import (
            filter_choices,  # noqa: F401  (in every process, workers too)
            open_labels,
        )
        from .tickets.labels import label_policy

        open_labels.connect()  # in every process: the labels' copy of open tickets' office
        _out_of_reference_index(self.get_models())
        register_permission_policy(Ticket, TicketPermissionPolicy(Ticket))
        register_permission_policy(QuickReply, quick_reply_policy(), exact_class=True)
        register_permission_policy(Mailbox, MailboxPermissionPolicy(Mailbox), exact_class=True)
        register_permission_policy(Label, label_policy(), exact_class=True)
        # Acts on the last app's post_migrate, when every app is migrated.
        post_migrate.connect(ensure_default_groups,
                             dispatch_uid="wagtail_helpdesk_default_groups")
        post_migrate.connect(_schedules, dispatch_uid="wagtail_helpdesk_schedules")
        from django.contrib.auth.signals import user_logged_in

        from .admin.presence import seen_at_login

        user_logged_in.connect(seen_at_login, dispatch_uid="wagtail_helpdesk_presence_login")


def _out_of_reference_index(models):
    """Keep the helpdesk's records out of Wagtail's reference index.

    The index (the admin's "usage" counts) writes a row per foreign key at
    every save of a model that has one: a ticket, each of its events, every
    notification and chat message — millions of rows at a big city's desk,
    written inside the citizen's request — for references to users and to our
    own catalogue that nobody looks up as "usage". Only the settings, which
    name pages (the privacy notice), stay in it. Migration 0027 removes the
    rows written before."""
    from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting

    for model in models:
        if not issubclass(model, (BaseSiteSetting, BaseGenericSetting)):
            model.wagtail_reference_index_ignore = True


def _schedules(sender, using="default", **kwargs):
    # Once, after the last app (django_q's tables exist by then).
    from .groups import last_signalled_app
    from .notifications.schedules import ensure_schedules

    if sender is not last_signalled_app():
        return
    ensure_schedules(using=using)
