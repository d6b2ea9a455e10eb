"""The operator's ticket page and the attachment download.

The page shows the ticket, its citizen, its files and its whole timeline, and
offers the actions the workflow and the permission policy allow (their forms
post to :mod:`.actions`). The slow secondary panels (similar tickets,
suggested replies) and the seldom-used ones (the citizen's other tickets, the
consults and their choice of colleagues) are fetched after the page has
rendered (Wagtail's ``w-swap`` controller; the page answers
``?panel=<name>`` with the panel's content alone, and ``?panels=all`` puts
them all in the page, as without JavaScript). It reads only: the one change
it makes is marking the citizen's messages read, through the services layer.

Its number of queries does not depend on the number of events, files or
other tickets (pinned by tests). The timeline shows the latest
:data:`TIMELINE_SHOWN` events; "Show earlier events" shows them all.
"""

import functools

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe
from django.views.generic import TemplateView
from wagtail.admin.templatetags.wagtailadmin_tags import icon
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import HeaderButton

from ... import services
from ...ai import switches
from ...attachments import serve_attachment
from ...choices_cache import attach_catalogue
from ...maps import map_settings
from ...models import (
    Attachment,
    EventKind,
)
from ...permissions import ticket_policy
from ...quickreplies.policy import quick_reply_policy
from ...services.identities import claimed_citizen
from ...services.lookup import citizen_match
from ...tickets.actions import available_actions
from ...tickets.labels import labels_of
from ...tickets.queries import visible_ticket_or_404, visible_tickets
from ...tickets.timeline import build_recent_timeline
from ...workflow import Status
from .. import labelling
from ..assist import assist_panel
from ..labelling import labels_form
from ..similar import similar_panel
from . import viewers
from .consults import consult_panel
from .forms import ACTION_FORMS
from .replybox import reply_box_with_replies
from .timeline_html import timeline_items

#: How many of the citizen's other tickets the page lists.
OTHER_TICKETS = 5
#: How many of the latest events the timeline shows ("Show earlier events"
#: shows them all: ``?timeline=all``).
TIMELINE_SHOWN = 50
#: The query parameter that shows the whole timeline.
TIMELINE_PARAM = "timeline"
#: The query parameter (``?panels=all``) that puts the secondary panels (the
#: similar tickets, the suggested replies) in the page itself, as without
#: JavaScript; else the page fetches them once it has rendered.
PANELS_PARAM = "panels"
#: The query parameter (``?panel=<name>``) that answers with the content of
#: one of :data:`DEFERRED_PANELS` alone (no page around it), for the page to
#: fetch once it has rendered.
PANEL_PARAM = "panel"
#: The panels the page fetches after it has rendered, and their templates.
DEFERRED_PANELS = {
    "consults": "wagtail_helpdesk/admin/includes/ticket_consults_body.html",
    "other-tickets": "wagtail_helpdesk/admin/includes/ticket_other_tickets.html",
}


#: What the page shows of a ticket, joined in (also for the views that show
#: the page again: actions, consults, linking, quick replies). The seldom-set
#: declared contact and the ticket it follows up are read only when set: each
#: join costs PostgreSQL's planner more than the rare query it saves.
PAGE_RELATED = ("citizen", "office", "assignee", "created_by", "service", "report_category",
                "resolution_type")
#: What the page itself joins in: the catalogue rows (office, service,
#: problem type, resolution type) come from the cache
#: (:func:`~wagtail_helpdesk.choices_cache.attach_catalogue`).
PAGE_JOINED = ("citizen", "assignee", "created_by")


@functools.cache
def icon_html(name):
    """Wagtail's ``{% icon name=… %}``, rendered once per process for each
    name (the timeline repeats a few icons on every event)."""
    return render_to_string("wagtailadmin/shared/icon.html", icon(name=name))


class TicketDetailView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_helpdesk/admin/ticket_detail.html"
    header_icon = "clipboard-list"

    #: Set by the action view when it shows the page again with a refused form.
    bound_form = None
    files_dropped = False
    unread = None
    #: Set by the labels view when it shows the page again with a refused label.
    labels_form = None

    def dispatch(self, request, pk):
        # A deferred panel needs none of what the page joins in.
        panel = request.GET.get(PANEL_PARAM)
        self.ticket = visible_ticket_or_404(request.user, pk,
                                            related=() if panel else PAGE_JOINED)
        if not panel:
            attach_catalogue([self.ticket])
        return super().dispatch(request, pk)

    def get(self, request, *args, **kwargs):
        panel = request.GET.get(PANEL_PARAM)
        if panel is not None:
            return self.render_panel(panel)
        self.unread = self.ticket.unread_count  # what was new when the page was opened
        if self.can_change and self.ticket.unread_count:
            try:
                services.mark_read(self.ticket, request.user)
            except PermissionDenied:
                pass  # changed office meanwhile: the page still shows what they may see
        return super().get(request, *args, **kwargs)

    @classmethod
    def render_page(cls, request, ticket, *, bound_form=None, files_dropped=False, status=200,
                    labels_form=None):
        """The page for ``ticket`` with ``bound_form`` (a refused action's form,
        with what the operator typed) in place of its empty form (``labels_form``:
        the labels' form, refused)."""
        view = cls()
        view.setup(request, pk=ticket.pk)
        view.ticket = ticket
        view.bound_form = bound_form
        view.labels_form = labels_form
        view.files_dropped = files_dropped
        return view.render_to_response(view.get_context_data(), status=status)

    def render_panel(self, name):
        """The content of the deferred panel ``name`` alone (read only: the
        citizen's messages are not marked read by it)."""
        if name not in DEFERRED_PANELS:
            raise Http404
        context = {"ticket": self.ticket}
        if name == "consults":
            context["consult"] = consult_panel(self.request.user, self.ticket,
                                               can_change=self.can_change)
        else:
            context["other_tickets"] = self.get_other_tickets()
        response = render(self.request, DEFERRED_PANELS[name], context)
        response["Cache-Control"] = "private, no-store"
        return response

    def panel_url(self, name):
        return f"{reverse('helpdesk_tickets:detail', args=[self.ticket.pk])}?{PANEL_PARAM}={name}"

    @cached_property
    def can_change(self):
        return ticket_policy().user_has_permission_for_instance(
            self.request.user, "change", self.ticket
        )

    def get_page_title(self):
        return self.ticket.reference

    def get_page_subtitle(self):
        return self.ticket.subject

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("helpdesk_tickets:index"), "label": gettext_lazy("Tickets")},
            {"url": "", "label": self.ticket.reference},
        ]

    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        if self.ticket.status == Status.DRAFT and self.can_change:
            try:
                url = reverse("helpdesk_tickets:edit_draft", args=[self.ticket.pk])
            except NoReverseMatch:
                return buttons
            buttons.append(HeaderButton(gettext_lazy("Edit draft"), url=url, icon_name="edit"))
        return buttons

    def get_action_forms(self):
        user, ticket = self.request.user, self.ticket
        forms = {}
        for slug in available_actions(ticket, user, can_change=self.can_change):
            if self.bound_form is not None and self.bound_form.action == slug:
                forms[slug] = self.bound_form
            else:
                forms[slug] = ACTION_FORMS[slug](ticket=ticket, user=user)
        return {slug: form for slug, form in forms.items() if form.is_usable}

    def get_other_tickets(self):
        ticket = self.ticket
        if ticket.citizen_id is None:
            return []
        return list(
            visible_tickets(self.request.user)
            .filter(citizen_id=ticket.citizen_id).exclude(pk=ticket.pk)
            .only("pk", "short_code", "subject", "status", "kind", "last_activity_at")
            .order_by("-last_activity_at")[:OTHER_TICKETS]
        )

    def get_claimed_citizen(self):
        """What the operator may see of the registered citizen the ticket's
        declared fiscal code names (offered for "Collega al cittadino")."""
        if not self.can_change:
            return None
        claimed = claimed_citizen(self.ticket)
        return citizen_match(claimed) if claimed is not None else None

    def get_labels(self):
        """The ticket's labels and, for those who may change it, the form that
        adds one (two queries)."""
        if self.labels_form is not None:
            return self.labels_form.current, self.labels_form
        if not self.can_change:
            return labels_of(self.ticket), None
        form = labels_form(self.ticket)
        return form.current, form

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = self.ticket
        labels, label_form = self.get_labels()
        attachments = list(ticket.attachments.all())
        forms = self.get_action_forms()
        now = timezone.now()
        bound = self.bound_form
        unread = ticket.unread_count if self.unread is None else self.unread
        whole = self.request.GET.get(TIMELINE_PARAM) == "all"
        # The slow side panels come after the page (fetched), unless asked for.
        defer = self.request.GET.get(PANELS_PARAM) != "all"
        settings = switches.for_request(self.request)
        timeline, has_earlier = build_recent_timeline(ticket, attachments,
                                                      None if whole else TIMELINE_SHOWN)
        for entry in timeline:
            entry.icon_html = icon_html(entry.icon)
        # The citizen's latest messages, as many as were unread, are marked new.
        citizen_messages = [e for e in timeline if e.kind == EventKind.CITIZEN_MESSAGE]
        for entry in citizen_messages[max(0, len(citizen_messages) - unread):] if unread else ():
            entry.is_new = True
        # The reply box's quick replies (one query, only when a reply can be sent).
        quick_replies, quick_reply_data, loaded_replies = (
            reply_box_with_replies(self.request.user, ticket) if "reply" in forms
            else ([], [], None))
        may_add_quick_replies = "reply" in forms and quick_reply_policy().user_has_permission(
            self.request.user, "add")
        context.update(
            ticket=ticket,
            can_change=self.can_change,
            is_overdue=bool(ticket.is_open and ticket.due_at and ticket.due_at < now),
            timeline=timeline,
            timeline_items=timeline_items(timeline, ticket, icon_html),
            earlier_events_url=(f"?{TIMELINE_PARAM}=all#timeline-heading" if has_earlier
                                else None),
            unread=unread,
            attachments=attachments,
            other_tickets=None if defer else self.get_other_tickets(),
            other_tickets_url=self.panel_url("other-tickets") if defer else None,
            claimed_citizen=self.get_claimed_citizen(),
            forms=forms,
            work_forms=[forms[s] for s in ("take_charge", "assign", "set_priority",
                                           "mark_waiting", "transfer", "reopen") if s in forms],
            # A refused form whose action is no longer possible (the ticket changed
            # meanwhile): its text is shown so that nothing typed is lost.
            orphan_form=bound if bound is not None and bound.action not in forms else None,
            files_dropped=self.files_dropped,
            place=bool(ticket.address or ticket.has_location),
            quick_replies=quick_replies,
            quick_reply_data=quick_reply_data,
            may_add_quick_replies=may_add_quick_replies,
            map=map_settings(),
            other_viewers=viewers.register(ticket.pk, self.request.user),
            viewers_url=reverse("helpdesk_tickets:viewers", args=[ticket.pk]),
            poll_every_ms=viewers.POLL_EVERY_MS,
            consult=consult_panel(self.request.user, ticket, can_change=self.can_change,
                                  bound_form=bound,
                                  deferred_url=self.panel_url("consults") if defer else None),
            assist=assist_panel(self.request, ticket, timeline, can_reply="reply" in forms,
                                replies=loaded_replies, settings=settings,
                                defer_suggestions=defer),
            similar=similar_panel(self.request, ticket, settings=settings, defer=defer),
            panels_url=f"?{PANELS_PARAM}=all",
            labels=labels,
            label_form=label_form,
            labels_url=reverse(labelling.URL_NAME, args=[ticket.pk]),
        )
        return context


@require_safe
def attachment_download(request, pk, attachment_pk):
    """Stream an attachment from the private storage to whoever may see its ticket."""
    attachment = get_object_or_404(
        Attachment.objects.filter(ticket__in=visible_tickets(request.user)),
        pk=attachment_pk, ticket_id=pk,
    )
    return serve_attachment(attachment)
