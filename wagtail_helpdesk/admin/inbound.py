""""Posta in arrivo": every e-mail the help desk received, what became of it,
its original (.eml) and, for administrators, moving it to the right ticket.
Under /admin/helpdesk/inbound/.

Administrators (who see every office) see every message; supervisors only
those that became part of a ticket of their offices — never one without a
ticket, which may be anybody's. Operators do not see the list: what matters
to them is already on the ticket's timeline.
"""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView, WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.widgets.button import HeaderButton

from ..errors import HelpdeskError
from ..models import InboundMessage, InboundOutcome, Mailbox, Office
from ..permissions import ticket_policy
from ..tickets.queries import visible_tickets
from .inbound_reading import certification_rows, read_message
from .notifications import TicketColumn
from .viewsets import MENU_HOOK

URL_NAME = "helpdesk_inbound"


def may_see(user):
    """Supervisors and administrators (the dashboard permission)."""
    return ticket_policy().user_has_permission(user, "dashboard")


def is_administrator(user):
    return may_see(user) and ticket_policy().sees_all_offices(user)


def visible_messages(user):
    """The received messages ``user`` may see (one query, no joins)."""
    messages_ = InboundMessage.objects.all()
    if not may_see(user):
        return messages_.none()
    if ticket_policy().sees_all_offices(user):
        return messages_
    return messages_.filter(ticket__in=visible_tickets(user, "dashboard"))


def openable_messages(user):
    """The received messages whose page and original ``user`` may open:
    administrators every one; anybody else those of the tickets they may
    see (the timeline links an operator to the original of a citizen's
    e-mail)."""
    if may_see(user) and ticket_policy().sees_all_offices(user):
        return InboundMessage.objects.all()
    if not ticket_policy().user_has_permission(user, "view"):
        return InboundMessage.objects.none()
    return InboundMessage.objects.filter(ticket__in=visible_tickets(user))


# --- The list -------------------------------------------------------------------------


class InboundFilterSet(WagtailFilterSet):
    outcome = django_filters.ChoiceFilter(label=gettext_lazy("Outcome"),
                                          choices=InboundOutcome.choices,
                                          empty_label=gettext_lazy("All"))
    mailbox = django_filters.ModelChoiceFilter(label=gettext_lazy("Mailbox"),
                                               queryset=Mailbox.objects.all())
    received_at = django_filters.DateFromToRangeFilter(label=gettext_lazy("Received"),
                                                       widget=DateRangePickerWidget)

    class Meta:
        model = InboundMessage
        fields = []


class OutcomeColumn(Column):
    cell_template_name = "wagtail_helpdesk/admin/inbound/outcome_cell.html"


class InboundIndexView(IndexView):
    model = InboundMessage
    permission_policy = None  # checked in dispatch: supervisors and administrators
    page_title = gettext_lazy("Inbox")
    header_icon = "mail"
    paginate_by = 50
    default_ordering = "-received_at"
    filterset_class = InboundFilterSet
    is_searchable = True
    search_fields = ["sender", "subject", "message_id"]
    search_backend_name = None
    columns = [
        DateColumn("received_at", label=gettext_lazy("Received"), sort_key="received_at"),
        Column("sender", label=gettext_lazy("Sender")),
        TitleColumn("subject", label=gettext_lazy("Subject"), url_name=f"{URL_NAME}:detail",
                    accessor=lambda m: m.subject or _("(no subject)")),
        OutcomeColumn("outcome", label=gettext_lazy("Outcome")),
        TicketColumn("ticket", label=gettext_lazy("Ticket")),
        Column("mailbox", label=gettext_lazy("Mailbox"),
               accessor=lambda m: m.mailbox.name if m.mailbox_id else "—"),
    ]

    def dispatch(self, request, *args, **kwargs):
        if not may_see(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return (visible_messages(self.request.user).select_related("mailbox", "ticket")
                .defer("detail", "certification", "envelope_to"))


# --- One message ----------------------------------------------------------------------


class LinkToTicketForm(forms.Form):
    """"Collega a un ticket": a short code or a ticket number."""

    mode = "link"
    ticket = forms.CharField(
        label=gettext_lazy("Ticket"), max_length=40,
        help_text=gettext_lazy("Its code (e.g. AST-2026-000042) or its number."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, prefix="link", **kwargs)
        self.user = user

    def clean_ticket(self):
        text = self.cleaned_data["ticket"].strip().lstrip("#").strip()
        tickets = visible_tickets(self.user, "change")
        found = tickets.filter(short_code__iexact=text).first() if text else None
        if found is None and text.isdigit():
            found = tickets.filter(pk=int(text)).first()
        if found is None:
            raise forms.ValidationError(_("No ticket you can work on has this code or number."))
        return found


class NewTicketForm(forms.Form):
    """"Apri un nuovo ticket" in an office."""

    mode = "new"
    office = forms.ModelChoiceField(label=gettext_lazy("Office"),
                                    queryset=Office.objects.filter(active=True))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, prefix="new", **kwargs)


REROUTE_FORMS = {form.mode: form for form in (LinkToTicketForm, NewTicketForm)}


class InboundDetailView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_helpdesk/admin/inbound/detail.html"
    header_icon = "mail"
    page_title = gettext_lazy("Received e-mail")

    #: Set by the re-route view when it shows the page again with a refused form.
    bound_form = None

    def dispatch(self, request, pk):
        self.message = get_object_or_404(
            openable_messages(request.user).select_related("mailbox", "ticket", "rerouted_by"),
            pk=pk)
        return super().dispatch(request, pk)

    @classmethod
    def render_page(cls, request, message, *, bound_form=None, status=200):
        view = cls()
        view.setup(request, pk=message.pk)
        view.message, view.bound_form = message, bound_form
        return view.render_to_response(view.get_context_data(), status=status)

    def get_page_subtitle(self):
        return self.message.subject or _("(no subject)")

    def get_breadcrumbs_items(self):
        inbox = ([{"url": reverse(f"{URL_NAME}:index"), "label": gettext_lazy("Inbox")}]
                 if may_see(self.request.user) else [])
        return [*self.breadcrumbs_items, *inbox, {"url": "", "label": self.get_page_subtitle()}]

    def get_header_buttons(self):
        buttons = [HeaderButton(_("Download the original (.eml)"), icon_name="download",
                                url=reverse(f"{URL_NAME}:download", args=[self.message.pk]))]
        if is_administrator(self.request.user) and may_process_again(self.message):
            buttons.append(HeaderButton(_("Process again"), icon_name="resubmit", attrs={
                "data-controller": "w-action", "data-action": "w-action#post",
                "data-w-action-url-value": reverse(f"{URL_NAME}:again",
                                                   args=[self.message.pk])}))
        return buttons

    def get_reroute_forms(self):
        if not is_administrator(self.request.user):
            return []
        user, bound = self.request.user, self.bound_form
        return [bound if bound is not None and bound.mode == mode else form(user=user)
                for mode, form in REROUTE_FORMS.items()]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            message=self.message,
            mail=read_message(self.message),
            certification=certification_rows(self.message.certification),
            reroute_forms=self.get_reroute_forms(),
            reroute_url=reverse(f"{URL_NAME}:reroute", args=[self.message.pk]),
        )
        return context


@require_safe
def download(request, pk):
    """The original message as received, for those who may see it."""
    message = get_object_or_404(openable_messages(request.user), pk=pk)
    try:
        handle = message.raw.open("rb")
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=True, content_type="message/rfc822",
                            filename=f"{message.received_at:%Y%m%d-%H%M%S}-{message.pk}.eml")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def may_process_again(message):
    """A failed message, or one held as part of a flood, with its original."""
    return bool(message.raw) and (
        message.outcome == InboundOutcome.FAILED
        or (message.outcome == InboundOutcome.DROPPED and message.reason == "rate"))


@require_POST
def process_again(request, pk):
    """Queue a failed or held message again, its cause fixed (administrators)."""
    if not is_administrator(request.user):
        raise PermissionDenied
    message = get_object_or_404(InboundMessage, pk=pk)
    from ..services.inbound import process_again as again

    if again(message, request.user):
        messages.success(request, _("The e-mail will be processed again in a moment."))
    else:
        messages.error(request, _("This e-mail cannot be processed again."))
    return redirect(f"{URL_NAME}:detail", pk=message.pk)


@require_POST
def reroute(request, pk):
    """Move the message to a ticket, or open a new one with it (administrators)."""
    if not is_administrator(request.user):
        raise PermissionDenied
    message = get_object_or_404(
        InboundMessage.objects.select_related("mailbox", "ticket", "rerouted_by"), pk=pk)
    form_class = REROUTE_FORMS.get(request.POST.get("mode"))
    if form_class is None:
        raise Http404
    form = form_class(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Nothing was changed: correct the errors below."))
        return InboundDetailView.render_page(request, message, bound_form=form)
    from ..services.inbound import reroute as reroute_message

    try:
        ticket = reroute_message(message, request.user, ticket=form.cleaned_data.get("ticket"),
                                 office=form.cleaned_data.get("office"))
    except HelpdeskError as exc:
        for field, error in exc.field_errors.items():
            form.add_error(field if field in form.fields else None, error)
        messages.error(request, exc.message)
        return InboundDetailView.render_page(request, message, bound_form=form)
    except PermissionDenied as exc:
        messages.error(request, str(exc) if exc.args else _("You cannot move this e-mail."))
        return InboundDetailView.render_page(request, message, bound_form=form, status=403)
    messages.success(request, _("The e-mail is now on ticket %(reference)s.") % {
        "reference": ticket.reference})
    return redirect(f"{URL_NAME}:detail", pk=message.pk)


class InboundViewSet(ViewSet):
    icon = "mail"
    menu_label = gettext_lazy("Inbox")
    menu_name = "helpdesk-inbox"
    menu_hook = MENU_HOOK
    menu_order = 135
    add_to_admin_menu = False

    def get_urlpatterns(self):
        names = {"index_url_name": self.get_url_name("index"),
                 "index_results_url_name": self.get_url_name("index_results")}
        return [
            path("", InboundIndexView.as_view(**names), name="index"),
            path("results/", InboundIndexView.as_view(**names, results_only=True),
                 name="index_results"),
            path("<int:pk>/", InboundDetailView.as_view(), name="detail"),
            path("<int:pk>/download/", download, name="download"),
            path("<int:pk>/reroute/", reroute, name="reroute"),
            path("<int:pk>/again/", process_again, name="again"),
        ]

    def get_menu_item(self, order=None):
        item = super().get_menu_item(order)
        item.is_shown = lambda request: may_see(request.user)
        return item


inbound_viewset = InboundViewSet(URL_NAME, url_prefix="helpdesk/inbound")
