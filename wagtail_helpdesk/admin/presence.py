"""The operator's availability switch (Disponibile, Occupato, Non disturbare,
Non presente, Offline, or automatic)."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail.admin import messages
from wagtail.admin.ui.components import Component

from ..models import OperatorPresence, Presence
from ..permissions import ticket_policy
from ..services import presence

URL_NAME = "wagtail_helpdesk_presence"
HEARTBEAT_URL_NAME = "wagtail_helpdesk_presence_heartbeat"


class PresenceForm(forms.Form):
    chosen = forms.ChoiceField(
        label=_("Your availability"),
        choices=[("", _("Automatic"))] + list(Presence.choices),
        required=False,
    )


class PresenceSwitch(Component):
    """The availability switch, as a header button of the Helpdesk's screens."""

    template_name = "wagtail_helpdesk/admin/includes/presence_switch.html"

    def __init__(self, request):
        self.request = request

    @classmethod
    def for_request(cls, request):
        """The switch, or None for users who do not work on tickets."""
        if not ticket_policy().user_has_permission(request.user, "change"):
            return None
        return cls(request)

    def get_context_data(self, parent_context):
        row = OperatorPresence.objects.filter(user=self.request.user).first()
        return {
            "form": PresenceForm(initial={"chosen": row.chosen if row else ""}),
            "effective": presence.effective(row),
            "next": self.request.get_full_path(),
            "csrf_token": get_token(self.request),
        }


@require_POST
def heartbeat(request):
    """An open admin page says the operator is still there (once a minute)."""
    if ticket_policy().user_has_permission(request.user, "change"):
        presence.touch(request.user)
    return HttpResponse(status=204)


@require_POST
def choose_presence(request):
    if not ticket_policy().user_has_permission(request.user, "change"):
        raise PermissionDenied
    form = PresenceForm(request.POST)
    if form.is_valid():
        presence.choose(request.user, form.cleaned_data["chosen"])
        effective = presence.of(request.user)
        messages.success(request, _("Your availability is now: %(status)s.")
                         % {"status": effective.label})
    else:
        messages.error(request, _("Choose a valid availability."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()},
                                           require_https=request.is_secure()):
        target = "wagtailadmin_home"
    return redirect(target)


def seen_at_login(sender, request, user, **kwargs):
    """An operator who logs in is seen now (connected in ``apps.ready``)."""
    from ..permissions import ticket_policy
    from ..services import presence

    if ticket_policy().user_has_permission(user, "change"):
        presence.touch(user)
