"""Crea ticket: an operator opens a ticket on a citizen's behalf (phone, desk,
e-mail), saves it as a draft to finish later, or submits it. Thin: the form
parses, the services layer decides."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from ... import services
from ...errors import HelpdeskError
from ...models import Office
from ...permissions import office_ids_for, ticket_policy
from ...tickets.queries import visible_tickets
from ...workflow import Status
from .create_forms import TicketDraftForm

INTENTS = ("search", "draft", "submit", "delete")


class TicketCreateView(WagtailAdminTemplateMixin, TemplateView):
    """New ticket (``draft`` is None) or an operator's draft being completed."""

    template_name = "wagtail_helpdesk/admin/ticket_create.html"
    header_icon = "clipboard-list"
    draft = None

    def dispatch(self, request, pk=None):
        policy = ticket_policy()
        if not policy.user_has_permission(request.user, "add"):
            raise PermissionDenied
        if pk is not None:
            self.draft = get_object_or_404(visible_tickets(request.user, "change"),
                                           pk=pk, status=Status.DRAFT)
        if policy.sees_all_offices(request.user):
            self.offices = Office.objects.active()
        else:
            self.offices = Office.objects.active().filter(pk__in=office_ids_for(request.user))
        self.citizen_matches = []
        return super().dispatch(request, pk=pk)

    def get_page_title(self):
        return _("Edit draft") if self.draft else _("New ticket")

    def get_page_subtitle(self):
        return self.draft.reference if self.draft else ""

    def get_breadcrumbs_items(self):
        return [*super().get_breadcrumbs_items(),
                {"url": reverse("helpdesk_tickets:index"), "label": _("Tickets")},
                {"url": "", "label": self.get_page_title()}]

    def initial(self):
        if self.draft is None:
            return {}
        d = self.draft
        return {"kind": d.kind, "channel": d.channel, "service": d.service_id,
                "report_category": d.report_category_id, "subject": d.subject,
                "description": d.description, "address": d.address, "latitude": d.latitude,
                "longitude": d.longitude, "priority": d.priority, "citizen": d.citizen_id}

    def make_form(self, data=None, files=None):
        return TicketDraftForm(data, files, initial=self.initial(), offices=self.offices,
                               citizen_choices=self.citizen_matches)

    def get(self, request, pk=None):
        return self.render_to_response(self.get_context_data(form=self.make_form()))

    def post(self, request, pk=None):
        intent = request.POST.get("intent")
        if intent not in INTENTS:
            intent = "draft"
        if intent == "delete" and self.draft is not None:
            return self.delete_draft()
        if intent == "search":
            self.citizen_matches = services.search_citizens(
                request.user, request.POST.get("citizen_query", ""))
        form = self.make_form(request.POST, request.FILES)
        if intent == "search" or not form.is_valid():
            if intent != "search":
                messages.error(request, _("The ticket could not be saved: check the fields."))
            return self.render_to_response(self.get_context_data(form=form, searched=True))
        try:
            ticket = services.save_operator_ticket(
                request.user, draft=self.draft, kind=form.cleaned_data["kind"],
                citizen=form.cleaned_data.get("citizen"), new_citizen=form.new_citizen(),
                note=form.cleaned_data["note"], attachments=form.cleaned_data["attachments"],
                submit=intent == "submit", expected_version=request.POST.get("version"),
                **form.ticket_fields())
        except HelpdeskError as exc:
            for field, error in exc.field_errors.items():
                form.add_error(field if field in form.fields else None, error)
            messages.error(request, exc.message)
            return self.render_to_response(self.get_context_data(form=form))
        if intent == "submit":
            messages.success(request, _("Ticket %(ref)s created.") % {"ref": ticket.reference})
            return redirect("helpdesk_tickets:detail", ticket.pk)
        messages.success(request, _("Draft saved: you can finish it later under “My drafts”."))
        return redirect("helpdesk_tickets:edit_draft", ticket.pk)

    def delete_draft(self):
        try:
            services.delete_draft(self.draft, self.request.user,
                                  expected_version=self.request.POST.get("version"))
        except HelpdeskError as exc:
            messages.error(self.request, exc.message)
            return redirect("helpdesk_tickets:edit_draft", self.draft.pk)
        messages.success(self.request, _("Draft deleted."))
        return redirect(reverse("helpdesk_tickets:index") + "?queue=drafts")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(draft=self.draft, citizen_matches=self.citizen_matches,
                       chosen_citizen=self.draft.citizen if self.draft else None)
        return context


