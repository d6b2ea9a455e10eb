"""The operators' chat workspace (URL name ``wagtail_helpdesk_chat:workspace``).

One page: the conversations waiting in the operator's queues (accept one, or
"Accetta la prossima"), and the operator's own conversations as tabs (up to
``CHAT_CAPACITY``), with the consults they were invited to. The page's
script (``chat.js``) talks over one WebSocket; the actions are POSTs here
(CSRF), each calling one function of
:mod:`wagtail_helpdesk.services.conversations`. A refused form shows the page
again with the error next to the field and what was typed kept.

``incoming/`` answers the incoming-conversation notifier of every admin page
(``chatnotify.js``) in a constant number of queries.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ... import services
from ...conf import get_setting
from ...errors import HelpdeskError
from ...formats import person_name
from ...models import Conversation
from ...permissions import ticket_policy
from ...services import conversations as chat
from ..labelling import LabelsForm
from ..presence import PresenceSwitch
from . import workspace_data as data
from .forms import ChatNoteForm, ChatTransferForm, InviteForm, WrapUpForm
from .workspace_json import (
    candidates,
    colleagues,
    incoming_json,
    message_row,
    send_file_json,
    send_json,
    wants_json,
)

URL_NAME = "wagtail_helpdesk_chat:workspace"
#: How often the notifier of every admin page asks for waiting conversations.
NOTIFY_EVERY_MS = 15000


def _operator(user):
    if not ticket_policy().user_has_permission(user, "view"):
        raise PermissionDenied
    return user


def load_conversation(request, pk):
    """The conversation ``pk`` if the user may read it (else 404: another
    office's conversations are not even said to exist)."""
    _operator(request.user)
    c = Conversation.objects.select_related(*data.CONVERSATION_RELATED).filter(pk=pk).first()
    if c is None or not chat.can_read(request.user, c):
        raise Http404
    return c


class WorkspaceView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_helpdesk/admin/chat/workspace.html"
    page_title = gettext_lazy("Conversations")
    header_icon = "comment"

    #: A refused action's form ``(conversation pk, form)``, shown again.
    bound = None
    selected = None

    def dispatch(self, request, *args, **kwargs):
        _operator(request.user)
        return super().dispatch(request, *args, **kwargs)

    @classmethod
    def render_page(cls, request, *, bound=None, selected=None, status=200):
        view = cls()
        view.setup(request)
        view.bound, view.selected = bound, selected
        return view.render_to_response(view.get_context_data(), status=status)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def get_header_buttons(self):
        switch = PresenceSwitch.for_request(self.request)
        return [switch] if switch else []

    def _forms(self, tab, shared):
        c = tab.conversation
        bound_pk, bound_form = self.bound or (None, None)

        def pick(cls, **kwargs):
            if bound_pk == c.pk and isinstance(bound_form, cls):
                return bound_form
            return cls(conversation=c, **kwargs)

        forms = {"note": pick(ChatNoteForm), "labels": self._labels_form(tab, shared)}
        if tab.is_mine:
            forms["wrapup"] = pick(WrapUpForm, resolution_types=shared["resolution_types"])
            forms["transfer"] = pick(ChatTransferForm, offices=shared["offices"],
                                     colleagues=data.transfer_colleagues(c, shared))
            forms["invite"] = pick(InviteForm)
        return forms

    def _labels_form(self, tab, shared):
        """The labels of the conversation's ticket, for those who may change it
        (the labels' view checks again): no query, the tab's data has them."""
        c = tab.conversation
        bound_pk, bound_form = self.bound or (None, None)
        if bound_pk == c.pk and isinstance(bound_form, LabelsForm):
            return bound_form
        if not ticket_policy().user_has_permission_for_instance(self.request.user, "change",
                                                                c.ticket):
            return None  # a consulted colleague of another office: they see the labels
        offices = {office.pk: office for office in shared.get("offices", [])}
        offered = shared.get("labels", {})
        office = offices.get(c.ticket.office_id)
        return LabelsForm(ticket=c.ticket, current=tab.labels,
                          offered=[*offered.get(None, []), *offered.get(c.ticket.office_id, [])],
                          typing=bool(office and office.open_labels))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        can_change = ticket_policy().user_has_permission(user, "change")
        tabs = data.build_tabs(user)
        shared = data.shared_choices(user, tabs) if tabs else {"quick_replies": [],
                                                           "quick_reply_data": []}
        for tab in tabs:
            tab.forms = self._forms(tab, shared)
            tab.rows = [{**message_row(m, user), "at": m.created_at} for m in tab.messages]
        selected = self.selected or self.request.GET.get("c")
        selected = next((t.pk for t in tabs if str(t.pk) == str(selected)),
                        tabs[0].pk if tabs else None)
        held = sum(1 for t in tabs if t.is_mine)
        capacity = get_setting("CHAT_CAPACITY")
        context.update(
            tabs=tabs,
            selected=selected,
            waiting=data.waiting_conversations(user),
            held=held,
            capacity=capacity,
            can_accept=can_change and held < capacity,
            can_change=can_change,
            quick_replies=shared["quick_replies"],
            quick_reply_data=shared["quick_reply_data"],
            messages_url=reverse("wagtail_helpdesk_chat_operator_messages", args=[0]),
            attachment_url=reverse("helpdesk_tickets:attachment", args=[0, 0]),
        )
        return context


workspace = WorkspaceView.as_view()


def _done(request, c, message, *, selected=None):
    """Success: JSON for the page's script, else a message and back to the workspace."""
    if wants_json(request):
        return JsonResponse({"ok": True, "message": str(message), "conversation": c.pk,
                             "state": c.state})
    messages.success(request, message)
    url = reverse(URL_NAME)
    return redirect(f"{url}?c={selected}" if selected else url)


def _refused(request, c, exc, form=None):
    """The service refused: the error (next to its field), what was typed kept."""
    denied = isinstance(exc, PermissionDenied)
    message = (str(exc) if exc.args else _("You cannot work on this conversation.")) if denied \
        else str(exc.message)
    status = 403 if denied else 400
    if form is not None and not denied:
        form.add_service_errors(exc)
    if wants_json(request):
        fields = {} if denied else {k: str(v) for k, v in exc.field_errors.items()}
        return JsonResponse({"error": message, "fields": fields}, status=status)
    messages.error(request, message)
    bound = (c.pk, form) if form is not None else None
    return WorkspaceView.render_page(request, bound=bound, selected=c and c.pk, status=status)


def _invalid(request, c, form, message):
    if wants_json(request):
        return JsonResponse({"error": str(message), "fields": {
            name: " ".join(str(e) for e in errors) for name, errors in form.errors.items()}},
            status=400)
    messages.error(request, message)
    return WorkspaceView.render_page(request, bound=(c.pk, form), selected=c.pk, status=400)


def _run(request, c, call, message, *, form=None, selected=None):
    try:
        result = call()
    except (HelpdeskError, PermissionDenied) as exc:
        return _refused(request, c, exc, form)
    c = result if isinstance(result, Conversation) else c
    return _done(request, c, message() if callable(message) else message, selected=selected)


@require_POST
def accept(request, pk):
    c = load_conversation(request, pk)
    if not ticket_policy().user_has_permission_for_instance(request.user, "change", c.ticket):
        return _refused(request, c, PermissionDenied(
            _("You cannot work on the tickets of this office.")))
    return _run(request, c, lambda: chat.accept(c, request.user),
                _("You accepted the conversation of %(name)s.") % {"name": c.citizen.full_name},
                selected=c.pk)


@require_POST
def accept_next(request):
    _operator(request.user)
    try:
        c = chat.accept_next(request.user)
    except (HelpdeskError, PermissionDenied) as exc:
        return _refused(request, None, exc)
    if c is None:
        message = _("Nobody is waiting in your queues.")
        if wants_json(request):
            return JsonResponse({"error": message}, status=409)
        messages.warning(request, message)
        return redirect(URL_NAME)
    return _done(request, c, _("You accepted the conversation of %(name)s.")
                 % {"name": c.citizen.full_name}, selected=c.pk)


@require_POST
def end(request, pk):
    c = load_conversation(request, pk)
    return _run(request, c, lambda: chat.end(c, request.user),
                _("The chat is over: write the wrap-up to close it."), selected=c.pk)


@require_POST
def close(request, pk):
    c = load_conversation(request, pk)
    from ...models import ResolutionType

    form = WrapUpForm(request.POST, conversation=c,
                      resolution_types=list(ResolutionType.objects.active()))
    if not form.is_valid():
        return _invalid(request, c, form, _("The conversation could not be closed: correct "
                                            "the errors below."))
    d = form.cleaned_data
    return _run(request, c, lambda: chat.close(c, request.user, d["resolution_type"],
                                               d["resolution_text"]),
                _("Conversation closed: ticket %(reference)s resolved.")
                % {"reference": c.ticket.reference}, form=form)


@require_POST
def transfer(request, pk):
    c = load_conversation(request, pk)
    from ...models import Office

    form = ChatTransferForm(request.POST, conversation=c,
                            offices=list(Office.objects.active().order_by("name")),
                            colleagues=data.transfer_colleagues(c))
    if not form.is_valid():
        return _invalid(request, c, form, _("The conversation could not be transferred: "
                                            "correct the errors below."))
    d = form.cleaned_data
    if d["operator"]:
        return _run(request, c,
                    lambda: chat.hand_over(c, request.user, d["operator"], note=d["note"]),
                    _("Conversation transferred to %(name)s.")
                    % {"name": person_name(d["operator"])}, form=form)
    return _run(request, c, lambda: chat.transfer(c, request.user, d["office"], note=d["note"]),
                _("Conversation transferred to %(office)s.") % {"office": d["office"].name},
                form=form)


@require_POST
def release(request, pk):
    c = load_conversation(request, pk)
    return _run(request, c, lambda: chat.release(c, request.user),
                _("The conversation is back in the queue %(queue)s.") % {"queue": c.office.name})


@require_POST
def note(request, pk):
    c = load_conversation(request, pk)
    form = ChatNoteForm(request.POST, conversation=c)
    if not form.is_valid():
        return _invalid(request, c, form, _("The note could not be saved: correct the errors "
                                            "below."))
    return _run(request, c, lambda: services.add_note(c.ticket, request.user,
                                                      form.cleaned_data["body"]),
                _("Private note saved on ticket %(reference)s.")
                % {"reference": c.ticket.reference}, form=form, selected=c.pk)


def _candidate_lookup(c):
    return lambda pk: next((user for user, _status in candidates(c) if user.pk == pk), None)


@require_POST
def invite(request, pk):
    c = load_conversation(request, pk)
    form = InviteForm(request.POST, conversation=c, candidates=_candidate_lookup(c))
    if not form.is_valid():
        return _invalid(request, c, form, _("The colleague could not be invited: correct the "
                                            "errors below."))
    colleague = form.cleaned_data["colleague"]
    return _run(request, c, lambda: chat.invite(c, request.user, colleague,
                                                message=form.cleaned_data["message"]),
                _("%(name)s was invited to the conversation: you talk privately.")
                % {"name": person_name(colleague)}, form=form, selected=c.pk)


@require_POST
def add_to_chat(request, pk, user_pk):
    c = load_conversation(request, pk)
    participant = next((p for p in chat.participants(c) if p.user_id == user_pk), None)
    if participant is None:
        raise Http404
    return _run(request, c, lambda: chat.add_to_chat(c, request.user, participant.user),
                _("%(name)s now writes to the citizen too.")
                % {"name": person_name(participant.user)}, selected=c.pk)


@require_POST
def leave(request, pk):
    c = load_conversation(request, pk)
    return _run(request, c, lambda: chat.leave(c, request.user),
                _("You left the conversation."))


@require_POST
def send(request, pk):
    return send_json(request, load_conversation(request, pk))


@require_POST
def send_file(request, pk):
    return send_file_json(request, load_conversation(request, pk))


@never_cache
@require_GET
def colleagues_view(request, pk):
    return colleagues(request, load_conversation(request, pk))


@never_cache
@require_GET
def waiting(request):
    """The waiting list alone, for the page's script to refresh it."""
    user = _operator(request.user)
    from ...services.chatqueue import held as held_count

    held, capacity = held_count(user), get_setting("CHAT_CAPACITY")
    can_change = ticket_policy().user_has_permission(user, "change")
    return render(request, "wagtail_helpdesk/admin/chat/workspace_waiting.html", {
        "waiting": data.waiting_conversations(user), "held": held, "capacity": capacity,
        "can_change": can_change, "can_accept": can_change and held < capacity})


@never_cache
@require_GET
def incoming(request):
    if not ticket_policy().user_has_permission(request.user, "view"):
        # A plain 403 (not Wagtail's redirect): the notifier stops asking.
        return JsonResponse({"error": _("You cannot work on conversations.")}, status=403)
    return incoming_json(request)


urlpatterns = [
    path("", workspace, name="workspace"),
    path("incoming/", incoming, name="incoming"),
    path("waiting/", waiting, name="waiting"),
    path("accept-next/", accept_next, name="accept_next"),
    path("<int:pk>/accept/", accept, name="accept"),
    path("<int:pk>/end/", end, name="end"),
    path("<int:pk>/close/", close, name="close"),
    path("<int:pk>/transfer/", transfer, name="transfer"),
    path("<int:pk>/release/", release, name="release"),
    path("<int:pk>/note/", note, name="note"),
    path("<int:pk>/invite/", invite, name="invite"),
    path("<int:pk>/add/<int:user_pk>/", add_to_chat, name="add_to_chat"),
    path("<int:pk>/leave/", leave, name="leave"),
    path("<int:pk>/send/", send, name="send"),
    path("<int:pk>/file/", send_file, name="send_file"),
    path("<int:pk>/colleagues/", colleagues_view, name="colleagues"),
]


class ConversationsMenuItem(MenuItem):
    """"Conversazioni" in the Helpdesk menu: shown to the helpdesk's operators."""

    def is_shown(self, request):
        return ticket_policy().user_has_permission(request.user, "view")


def notifier_html():
    """The incoming-conversation notifier's script and element (every admin page)."""
    from django.templatetags.static import static
    from django.utils.html import format_html

    element = render_to_string("wagtail_helpdesk/admin/chat/notifier.html", {
        "url": reverse("wagtail_helpdesk_chat:incoming"), "interval": NOTIFY_EVERY_MS,
        "workspace": reverse(URL_NAME)})
    return format_html('<link rel="stylesheet" href="{}"><script defer src="{}"></script>{}',
                       static("wagtail_helpdesk/admin/chat.css"),
                       static("wagtail_helpdesk/admin/chatnotify.js"), element)
