"""The Citizens screens, under /admin/helpdesk/citizens/: a searchable list, a
citizen's page with their tickets and, for helpdesk administrators only, the
erasure of the citizen's personal data (through the services layer).

Scope: the citizens whose full record the user may read
(:func:`~wagtail_helpdesk.services.lookup.readable_citizens`): operators and
supervisors, those with at least one ticket they may open; users who see every
office (administrators), every citizen. Finding any citizen to open a ticket
for, with masked data, is "Crea ticket"'s. There is no generic add, edit or
delete: citizens are registered while creating a ticket, and a citizen is
never deleted, only erased.

The list and the citizen's page make a fixed number of queries whatever the
number of rows (pinned by tests).
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DateTimeField, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.defaults import permission_denied
from django.views.generic import FormView, TemplateView
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, Table, TitleColumn
from wagtail.admin.views.generic import IndexView, WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from .. import services
from ..errors import GuardFailed
from ..models import Citizen
from ..services.erasure import REASON_MAX_LENGTH, can_erase, placeholder
from ..services.lookup import matching, may_read_citizens, readable_citizens
from ..tickets.queries import visible_tickets
from .viewsets import MENU_HOOK

#: How many of a citizen's tickets their page lists (most recent first).
TICKETS_ON_PAGE = 100

#: The word an administrator types to confirm an erasure (translated: "CANCELLA").
CONFIRMATION_WORD = _("ERASE")


def forbidden(request):
    """A plain 403 (raising PermissionDenied in the admin would redirect to the
    dashboard with a message, hiding the refusal from API-like clients and tests)."""
    return permission_denied(request, PermissionDenied())


def visible_citizens(user):
    """The citizens ``user`` may read, each with the number and the date of the
    last of the tickets ``user`` may open (``ticket_count``, ``last_ticket_at``)."""
    mine = visible_tickets(user).filter(citizen_id=OuterRef("pk")).order_by()
    return readable_citizens(user).annotate(
        ticket_count=Coalesce(
            Subquery(mine.values("citizen_id").annotate(n=Count("pk")).values("n")[:1],
                     output_field=IntegerField()),
            0,
        ),
        last_ticket_at=Subquery(mine.order_by("-created_at").values("created_at")[:1],
                                output_field=DateTimeField()),
    )


def citizen_name(citizen):
    if citizen.erased_at:
        return gettext("Personal data erased")
    return citizen.full_name or gettext("Name not given")


def _or_dash(value):
    return value or "—"


def fiscal_code_shown(citizen):
    """The fiscal code, or the one a declared record claims, said as such."""
    if citizen.declared_fiscal_code:
        return _("%(code)s (declared, not verified)") % {"code": citizen.declared_fiscal_code}
    return _or_dash(citizen.fiscal_code)


class CitizenIndexView(IndexView):
    template_name = "wagtailadmin/generic/index.html"
    search_fields = ["family_name"]  # enables the search box; the search itself is ours
    search_backend_name = None
    default_ordering = "family_name"
    paginate_by = 50
    page_title = _("Citizens")
    any_permission_required = ["view", "change"]

    def get_base_queryset(self):
        return visible_citizens(self.request.user)

    def order_queryset(self, queryset):
        ordering = self.ordering or self.default_ordering
        if ordering.lstrip("-") == "family_name":
            desc = "-" if ordering.startswith("-") else ""
            return queryset.order_by(f"{desc}family_name", f"{desc}given_name", "pk")
        return queryset.order_by(ordering, "pk")

    def search_queryset(self, queryset):
        """The citizen search of "Crea ticket" and the API (``lookup.matching``),
        here also by e-mail: the list shows e-mails anyway."""
        if not self.is_searching:
            return queryset
        return matching(queryset, self.search_query, by_email=True)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["can_add"] = False  # citizens are registered with a ticket, not here
        return context

    def get_detail_url(self, citizen):
        return reverse("helpdesk_citizens:detail", args=[citizen.pk])

    @cached_property
    def columns(self):
        return [
            TitleColumn("name", label=_("Name"), accessor=citizen_name,
                        get_url=self.get_detail_url, sort_key="family_name"),
            Column("fiscal_code", label=_("Fiscal code"),
                   accessor=fiscal_code_shown, sort_key="fiscal_code",
                   classname="w-whitespace-nowrap"),
            Column("email", label=_("E-mail"), accessor=lambda c: _or_dash(c.email)),
            Column("phone", label=_("Phone"), accessor=lambda c: _or_dash(c.phone),
                   classname="w-whitespace-nowrap"),
            Column("ticket_count", label=pgettext_lazy("number of", "Tickets"),
                   accessor="ticket_count",
                   sort_key="ticket_count"),
            DateColumn("last_ticket_at", label=_("Last ticket"), sort_key="last_ticket_at"),
        ]


class CitizenMixin:
    """Finds the citizen among those the user may see (404 otherwise)."""

    header_icon = "user"

    def dispatch(self, request, pk):
        if not may_read_citizens(request.user):
            return forbidden(request)
        self.citizen = get_object_or_404(visible_citizens(request.user), pk=pk)
        return super().dispatch(request, pk)

    def get_page_title(self):
        return citizen_name(self.citizen)

    def citizen_breadcrumbs(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("helpdesk_citizens:index"), "label": _("Citizens")},
            {"url": reverse("helpdesk_citizens:detail", args=[self.citizen.pk]),
             "label": citizen_name(self.citizen)},
        ]


def _ticket_url(ticket):
    return reverse("helpdesk_tickets:detail", args=[ticket.pk])


class CitizenDetailView(CitizenMixin, WagtailAdminTemplateMixin, TemplateView):
    """A citizen's personal data and the tickets the user may open."""

    template_name = "wagtail_helpdesk/admin/citizen_detail.html"

    def get_breadcrumbs_items(self):
        return self.citizen_breadcrumbs()[:-1] + [{"url": "", "label": citizen_name(self.citizen)}]

    @cached_property
    def can_erase(self):
        return self.citizen.erased_at is None and can_erase(self.request.user)

    def get_header_buttons(self):
        buttons = super().get_header_buttons()
        if self.can_erase:
            buttons.append(HeaderButton(
                _("Erase personal data"), icon_name="bin",
                url=reverse("helpdesk_citizens:erase", args=[self.citizen.pk]),
            ))
        return buttons

    def get_tickets(self):
        return list(
            visible_tickets(self.request.user).filter(citizen_id=self.citizen.pk)
            .select_related("service", "report_category", "office")
            .order_by("-created_at", "-pk")[:TICKETS_ON_PAGE]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tickets = self.get_tickets()
        table = Table(
            [
                TitleColumn("reference", label=_("Code"), accessor="reference",
                            get_url=_ticket_url, classname="w-whitespace-nowrap"),
                Column("kind", label=_("Kind"), accessor="get_kind_display"),
                Column("subject", label=_("Subject"), accessor="subject"),
                Column("topic", label=_("Service / problem type"),
                       accessor=lambda t: t.service or t.report_category or "—"),
                Column("office", label=_("Office"), accessor=lambda t: _or_dash(t.office)),
                StatusTagColumn("status", label=_("Status"), accessor="get_status_display",
                                primary=lambda t: t.is_open),
                DateColumn("created_at", label=_("Created")),
                DateColumn("last_activity_at", label=_("Last interaction")),
            ],
            tickets,
            caption=_("Tickets"),
        )
        context.update(
            citizen=self.citizen,
            tickets=tickets,
            ticket_table=table,
            ticket_count=self.citizen.ticket_count,
            more_tickets=max(0, self.citizen.ticket_count - len(tickets)),
            can_erase=self.can_erase,
        )
        return context


class EraseForm(forms.Form):
    confirmation = forms.CharField(
        label=_("Confirmation"), max_length=40, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example the reference of the citizen's request. It is kept in the "
                    "audit log: do not write personal data here."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmation"].help_text = _(
            "Type %(word)s to confirm that the personal data are to be erased."
        ) % {"word": str(CONFIRMATION_WORD)}

    def clean_confirmation(self):
        value = self.cleaned_data["confirmation"]
        if value.upper() != str(CONFIRMATION_WORD).upper():
            raise forms.ValidationError(
                _("Type %(word)s to confirm.") % {"word": str(CONFIRMATION_WORD)}
            )
        return value


class CitizenEraseView(CitizenMixin, WagtailAdminTemplateMixin, FormView):
    """The confirmation page of the erasure; administrators only."""

    template_name = "wagtail_helpdesk/admin/citizen_erase.html"
    form_class = EraseForm
    http_method_names = ["get", "post"]

    def dispatch(self, request, pk):
        if not can_erase(request.user):
            return forbidden(request)
        return super().dispatch(request, pk)

    def get(self, request, *args, **kwargs):
        if self.citizen.erased_at is not None:
            messages.info(request, _("The personal data of this citizen were already erased."))
            return redirect("helpdesk_citizens:detail", self.citizen.pk)
        return super().get(request, *args, **kwargs)

    def get_page_title(self):
        return gettext("Erase personal data")

    def get_page_subtitle(self):
        return citizen_name(self.citizen)

    def get_breadcrumbs_items(self):
        return [*self.citizen_breadcrumbs(), {"url": "", "label": _("Erase personal data")}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(citizen=self.citizen, ticket_count=self.citizen.ticket_count,
                       confirmation_word=str(CONFIRMATION_WORD), placeholder=placeholder(),
                       detail_url=reverse("helpdesk_citizens:detail", args=[self.citizen.pk]))
        return context

    def form_valid(self, form):
        try:
            services.erase_citizen(self.request.user, self.citizen,
                                   reason=form.cleaned_data["reason"])
        except GuardFailed as exc:
            if exc.field_errors:
                for field, error in exc.field_errors.items():
                    form.add_error(field if field in form.fields else None, error)
                return self.form_invalid(form)
            messages.warning(self.request, exc.message)
        else:
            messages.success(self.request, _(
                "The citizen's personal data were erased. Their tickets were kept, anonymised."
            ))
        return redirect("helpdesk_citizens:detail", self.citizen.pk)


class CitizenViewSet(ModelViewSet):
    model = Citizen
    icon = "user"
    menu_label = _("Citizens")
    menu_name = "helpdesk-citizens"
    menu_order = 200
    menu_hook = MENU_HOOK
    add_to_admin_menu = False
    add_to_reference_index = False
    index_view_class = CitizenIndexView
    copy_view_enabled = False
    inspect_view_enabled = False

    def get_index_view_kwargs(self, **kwargs):
        kwargs = super().get_index_view_kwargs(**kwargs)
        kwargs.update(add_url_name=None, edit_url_name=None, delete_url_name=None,
                      copy_url_name=None, inspect_url_name=None)
        return kwargs

    @property
    def url_finder_class(self):
        # Wagtail links an object (e.g. in the audit-log report) to its "edit"
        # URL: here, the citizen's page.
        return type("_CitizenURLFinder", (ModelAdminURLFinder,),
                    {"edit_url_name": self.get_url_name("detail")})

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("<int:pk>/", CitizenDetailView.as_view(), name="detail"),
            path("<int:pk>/erase/", CitizenEraseView.as_view(), name="erase"),
        ]


citizen_viewset = CitizenViewSet("helpdesk_citizens", url_prefix="helpdesk/citizens")
