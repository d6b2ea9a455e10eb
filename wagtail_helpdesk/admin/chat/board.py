"""The supervisors' live board of conversations (URL name ``wagtail_helpdesk_chat:board``).

For users with the ``dashboard`` permission (supervisors), scoped to their
offices (every office for those who see all): the queue figures
(:mod:`wagtail_helpdesk.conversations.metrics`) and the conversations by
state, refreshed in near real time by ``chatboard.js`` (the operator socket's
``new`` signals, or polling): it asks for the same URL with the
``X-Helpdesk-Fragment`` header and swaps the content.

From the board a supervisor *monitors* a conversation ("Osserva": a POST to
:func:`conversations.monitor`, recorded on the ticket's timeline and told to
the operator — never covert, as Italian labour rules require), then reads it
live (internal messages included); *joins* it ("Intervieni": writes to the
citizen too) or *hands it back to the queue* ("Riassegna alla coda"). The views
are thin: every change is a service call, which checks the rules again.
"""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ...conf import get_setting
from ...conversations import metrics
from ...conversations.rows import batch, by_operator
from ...errors import GuardFailed
from ...formats import format_duration, person_name
from ...models import (
    Conversation,
    ConversationParticipant,
    ConversationState,
    Identity,
    Office,
    OfficeMembership,
)
from ...permissions import office_ids_for, ticket_policy
from ...services import conversations

URL_NAME = "board"
FRAGMENT_HEADER = "X-Helpdesk-Fragment"
#: Seconds between two refreshes without the socket (with it: on its signals).
POLL_SECONDS = 10
#: Seconds between two refreshes with the socket (the clocks move on).
CLOCK_SECONDS = 30
SOCKET_PATH = "/ws/helpdesk/operator/"
State = ConversationState

#: The board's sections: a state, its heading, what an empty one says.
SECTIONS = (
    (State.WAITING, gettext_lazy("Waiting"), gettext_lazy("Nobody is waiting.")),
    (State.ACTIVE, pgettext_lazy("chat conversations", "Active"),
     gettext_lazy("No conversation is active.")),
    (State.WRAPUP, gettext_lazy("Wrap-up"), gettext_lazy("No conversation is in wrap-up.")),
    (State.CLOSED, gettext_lazy("Ended today"), gettext_lazy("No conversation ended today.")),
    (State.TICKET, gettext_lazy("Became a request today"),
     gettext_lazy("No conversation became a request today.")),
)


# --- who sees what ---------------------------------------------------------------------------


def is_supervisor(user):
    return ticket_policy().user_has_permission(user, "dashboard")


def supervised_offices(user):
    """The active offices whose queues ``user`` supervises, by name."""
    offices = Office.objects.filter(active=True).order_by("name")
    if ticket_policy().sees_all_offices(user):
        return offices
    return offices.filter(pk__in=office_ids_for(user))


def supervised_conversations(user):
    """The conversations of the queues ``user`` supervises."""
    if ticket_policy().sees_all_offices(user):
        return Conversation.objects.all()
    return Conversation.objects.filter(office_id__in=office_ids_for(user))


def supervised_conversation_or_404(user, pk):
    """The conversation ``pk`` if ``user`` supervises its queue; a user who is
    no supervisor is refused, any other conversation is not found."""
    if not is_supervisor(user):
        raise PermissionDenied
    return get_object_or_404(
        supervised_conversations(user).select_related("ticket", "ticket__service", "citizen",
                                                      "office", "operator"), pk=pk)


def my_participation(conversation, user):
    """``user``'s active participation in ``conversation`` (monitoring or
    joined), or None."""
    return ConversationParticipant.objects.filter(
        conversation=conversation, user=user, ended_at__isnull=True).first()


# --- the board --------------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    office = forms.ModelChoiceField(
        label=gettext_lazy("Queue"), queryset=Office.objects.none(), required=False,
        empty_label=gettext_lazy("All queues"),
        widget=forms.Select(attrs={"data-controller": "w-submit",
                                   "data-action": "change->w-submit#submit"}),
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices


def citizen_name(conversation):
    citizen = conversation.citizen
    return " ".join(p for p in (citizen.given_name, citizen.family_name) if p).strip()


def _row(c, now, user):
    """What the board shows of a conversation."""
    waited = None
    if c.state == State.WAITING:
        waited = now - c.queued_at
    elif c.state == State.ACTIVE and c.answer_wait_since:
        waited = now - c.answer_wait_since
    present = [{"name": person_name(p.user), "role": p.get_role_display(), "public": p.public}
               for p in c.present]
    return {
        "conversation": c,
        "citizen": citizen_name(c),
        "declared": c.identity == Identity.DECLARED,
        "subject": c.ticket.subject,
        "service": c.ticket.service.name if c.ticket.service else "",
        "channel": c.ticket.get_channel_display(),
        "device": c.device,
        "operator": person_name(c.operator),
        "present": present,
        "mine": any(p.user_id == user.pk for p in c.present),
        "wait": format_duration(waited) if waited is not None else "",
        "answer_wait": c.state == State.ACTIVE and waited is not None,
        "live": c.state in metrics.LIVE_STATES,
    }


def _figures(row):
    return {**row, **{key: format_duration(row[key]) if row[key] is not None else ""
                      for key in ("longest_unassigned", "longest_unanswered", "handling")}}


class BoardView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_helpdesk/admin/chat/board.html"
    fragment_template_name = "wagtail_helpdesk/admin/chat/board_live.html"
    page_title = gettext_lazy("Live chat board")
    header_icon = "comment"

    def dispatch(self, request, *args, **kwargs):
        if not is_supervisor(request.user):
            raise PermissionDenied
        self.offices = supervised_offices(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(), {"url": "", "label": self.get_page_title()}]

    def get_template_names(self):
        fragment = self.request.headers.get(FRAGMENT_HEADER)
        return [self.fragment_template_name if fragment else self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        user = self.request.user
        form = QueueFilterForm(self.request.GET or None, offices=self.offices)
        office = form.cleaned_data.get("office") if form.is_valid() else None
        offices = [office] if office else list(self.offices)
        scope = supervised_conversations(user)
        if office:
            scope = scope.filter(office=office)
        memberships = OfficeMembership.objects.filter(office__in=[o.pk for o in offices])
        figures = metrics.queue_metrics(scope, memberships, offices, now)
        states = metrics.board(scope, now)
        context.update(
            form=form, office=office, now=now,
            total=_figures(figures["total"]),
            queues=[_figures(q) for q in figures["queues"]],
            sections=[{"state": state, "heading": heading, "empty": empty,
                       "rows": [_row(c, now, user) for c in states[state]]}
                      for state, heading, empty in SECTIONS],
            no_offices=not offices,
            fragment_header=FRAGMENT_HEADER,
            socket_path=SOCKET_PATH,
            poll_seconds=POLL_SECONDS,
            clock_seconds=CLOCK_SECONDS,
            capacity=get_setting("CHAT_CAPACITY"),
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, [FRAGMENT_HEADER])
        add_never_cache_headers(response)
        return response


# --- one conversation: monitor, join, hand back -----------------------------------------------


class ConversationView(WagtailAdminTemplateMixin, TemplateView):
    """A conversation as its supervisor sees it: live, read-only while
    monitoring, with a composer once joined. A live conversation is shown
    only to a supervisor who pressed "Osserva" (the operator was told);
    otherwise the page offers that button."""

    template_name = "wagtail_helpdesk/admin/chat/board_conversation.html"
    header_icon = "comment"

    def dispatch(self, request, *args, **kwargs):
        self.conversation = supervised_conversation_or_404(request.user, kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _("Conversation %(reference)s") % {"reference": self.conversation.ticket.reference}

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(),
                {"url": reverse(f"wagtail_helpdesk_chat:{URL_NAME}"),
                 "label": BoardView.page_title},
                {"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        c = self.conversation
        user = self.request.user
        mine = my_participation(c, user)
        live = c.state in metrics.LIVE_STATES
        # A live conversation is read by whoever monitors it (the operator was
        # told) — or holds it; an ended one is a transcript, like the ticket's.
        readable = mine is not None or not live or c.operator_id == user.pk
        rows = []
        if readable:
            shown = conversations.messages_after(c, 0, limit=10_000, internal=True)
            rows = batch(c, shown, by_operator(user.pk))["messages"]
            for row in rows:
                row["created_at"] = parse_datetime(row["created"])
                if row.get("attachment"):
                    row["attachment"]["url"] = reverse(
                        "helpdesk_tickets:attachment", args=[c.ticket_id, row["attachment"]["id"]])
        context.update(
            conversation=c, citizen=citizen_name(c),
            declared=c.identity == Identity.DECLARED,
            operator=person_name(c.operator),
            live=live, readable=readable, monitoring=mine is not None,
            joined=bool(mine and mine.public),
            can_join=live and c.state == State.ACTIVE and not (mine and mine.public),
            can_release=c.state == State.ACTIVE,
            rows=rows, last_seq=rows[-1]["seq"] if rows else 0,
            body=kwargs.get("body", ""), body_error=kwargs.get("body_error", ""),
            client_id=kwargs.get("client_id") or uuid.uuid4().hex,
            socket_path=SOCKET_PATH, poll_seconds=5,
            messages_url=reverse("wagtail_helpdesk_chat:board_messages", args=[c.pk]),
            send_url=reverse("wagtail_helpdesk_chat:board_send", args=[c.pk]),
            attachment_url=reverse("helpdesk_tickets:attachment", args=[c.ticket_id, 0]),
            state_labels=dict(State.choices),
            max_chars=get_setting("CHAT_MESSAGE_MAX_CHARS"),
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        add_never_cache_headers(response)
        return response


def _back(conversation):
    return redirect("wagtail_helpdesk_chat:board_conversation", conversation.pk)


def _refused(request, exc, where):
    messages.error(request, str(exc.message))
    return where


@require_POST
def monitor(request, pk):
    """"Osserva": the supervisor starts monitoring (recorded, the operator told)."""
    c = supervised_conversation_or_404(request.user, pk)
    try:
        conversations.monitor(c, request.user)
    except GuardFailed as exc:
        return _refused(request, exc, redirect(f"wagtail_helpdesk_chat:{URL_NAME}"))
    messages.success(request, _("You are monitoring this conversation: its operator has been "
                                "told."))
    return _back(c)


@require_POST
def join(request, pk):
    """"Intervieni": the supervisor writes to the citizen too (both sides told)."""
    c = supervised_conversation_or_404(request.user, pk)
    try:
        conversations.join(c, request.user)
    except GuardFailed as exc:
        return _refused(request, exc, _back(c))
    messages.success(request, _("You joined the conversation: the citizen and the operator "
                                "have been told."))
    return _back(c)


@require_POST
def release(request, pk):
    """"Riassegna alla coda": the conversation goes back to its queue."""
    c = supervised_conversation_or_404(request.user, pk)
    try:
        conversations.release(c, request.user)
    except GuardFailed as exc:
        return _refused(request, exc, _back(c))
    messages.success(request, _("The conversation is back in the queue of %(office)s.")
                     % {"office": c.office.name})
    return redirect(f"wagtail_helpdesk_chat:{URL_NAME}")


@require_POST
def leave(request, pk):
    """The supervisor stops monitoring (or leaves after joining)."""
    c = supervised_conversation_or_404(request.user, pk)
    try:
        conversations.leave(c, request.user)
    except GuardFailed as exc:
        return _refused(request, exc, _back(c))
    messages.success(request, _("You left the conversation."))
    return redirect(f"wagtail_helpdesk_chat:{URL_NAME}")


def _wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


@require_GET
def conversation_messages(request, pk):
    """The polling fallback of the live view: the rows after ``?after=N``,
    internal ones included, once the supervisor monitors it (or it ended)."""
    c = supervised_conversation_or_404(request.user, pk)
    if c.state in metrics.LIVE_STATES and c.operator_id != request.user.pk \
            and my_participation(c, request.user) is None:
        return JsonResponse({"error": _("Press “Monitor” first: the operator is told.")},
                            status=403)
    try:
        after = max(int(request.GET.get("after", 0)), 0)
    except ValueError:
        return JsonResponse({"error": _("This request is not valid.")}, status=400)
    shown = conversations.messages_after(c, after, internal=True)
    response = JsonResponse(batch(c, shown, by_operator(request.user.pk)))
    add_never_cache_headers(response)
    return response


@require_POST
def send(request, pk):
    """The joined supervisor writes to the citizen (the composer without the
    socket). JSON for the page's script; without it, back to the page with
    the text kept if it was refused."""
    c = supervised_conversation_or_404(request.user, pk)
    body, client_id = request.POST.get("body", ""), request.POST.get("client_id", "")
    try:
        message = conversations.send(c, request.user, body, client_id)
    except (GuardFailed, PermissionDenied) as exc:
        text = str(getattr(exc, "message", "") or exc) or _("You cannot write in this "
                                                             "conversation.")
        if _wants_json(request):
            fields = {k: str(v) for k, v in getattr(exc, "field_errors", {}).items()}
            return JsonResponse({"error": text, "fields": fields}, status=400)
        view = ConversationView()
        view.setup(request, pk=pk)
        view.conversation = c
        context = view.get_context_data(body=body, body_error=text, client_id=client_id)
        return view.render_to_response(context, status=400)
    if _wants_json(request):
        return JsonResponse({"client_id": message.client_id, "seq": message.seq})
    return _back(c)


urlpatterns = [
    path("board/", BoardView.as_view(), name=URL_NAME),
    path("board/<int:pk>/", ConversationView.as_view(), name="board_conversation"),
    path("board/<int:pk>/monitor/", monitor, name="board_monitor"),
    path("board/<int:pk>/join/", join, name="board_join"),
    path("board/<int:pk>/release/", release, name="board_release"),
    path("board/<int:pk>/leave/", leave, name="board_leave"),
    path("board/<int:pk>/messages/", conversation_messages, name="board_messages"),
    path("board/<int:pk>/send/", send, name="board_send"),
]
