"""Wagtail hook registrations for the citizens screens (imported by wagtail_hooks)."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from ..services.citizens import COMPLETE_ACTION
from ..services.erasure import LOG_ACTION
from .citizens import citizen_viewset


@hooks.register("register_admin_viewset")
def register_citizen_viewset():
    # Joins the Helpdesk menu group through its ``menu_hook``.
    return citizen_viewset


@hooks.register("register_log_actions")
def register_erasure_log_action(actions):
    actions.register_action(
        LOG_ACTION, _("Erase personal data"), _("Personal data erased")
    )
    actions.register_action(
        COMPLETE_ACTION, _("Complete contacts"), _("Empty contacts completed by an operator")
    )
