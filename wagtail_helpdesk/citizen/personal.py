"""Area personale: a citizen's own tickets, for those logged in with
SPID/CIE; one ticket's page — the public timeline, replies with files, the
rating — also reachable, without logging in, through the ticket's signed
link from the e-mails; and the citizen's notification preferences.

A citizen only ever reaches their own tickets: every query is filtered by
the citizen (or by the ticket and citizen a signed link names); anything
else is a 404, the same answer as for a ticket that does not exist.
"""

from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from .. import services, throttle
from ..attachments import serve_attachment
from ..conf import get_setting
from ..errors import HelpdeskError
from ..models import Attachment, EventKind, Ticket, Visibility
from ..services import CitizenActor, rating
from ..services.submissions import verified_citizen
from ..workflow import Status
from . import links, timeline
from .forms import citizen_file_limit, files_help_text, too_many_files

PER_PAGE = 20
LIST = "wagtail_helpdesk/citizen/personal/tickets.html"
DETAIL = "wagtail_helpdesk/citizen/personal/ticket.html"
PREFERENCES = "wagtail_helpdesk/citizen/personal/preferences.html"
LOGIN = "wagtail_helpdesk/citizen/personal/login.html"
INVALID = "wagtail_helpdesk/citizen/personal/invalid_link.html"


def logout_url():
    """The SPID/CIE logout (a POST), when the app's login URLs are included."""
    try:
        return reverse("wagtail_helpdesk_oidc_logout")
    except NoReverseMatch:
        return ""


def _context(**extra):
    return {"base_template": get_setting("PUBLIC_BASE_TEMPLATE"), "login_url": links.login_url(),
            "logout_url": logout_url(), **extra}


def _login_needed(request):
    login = links.login_url()
    if login:
        return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
    return render(request, LOGIN, _context(), status=403)


def _tickets_of(citizen):
    return (Ticket.objects.filter(citizen=citizen).exclude(status=Status.DRAFT)
            .select_related("service", "report_category", "office", "citizen"))


@never_cache
@require_safe
def my_tickets(request):
    citizen = verified_citizen(request.user)
    if citizen is None:
        return _login_needed(request)
    tickets = _tickets_of(citizen).order_by("-submitted_at", "-pk")
    page = Paginator(tickets, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, LIST, _context(citizen=citizen, page=page))


def _my_ticket(request, ticket_id):
    citizen = verified_citizen(request.user)
    if citizen is None:
        return None, _login_needed(request)
    ticket = _tickets_of(citizen).filter(pk=ticket_id).first()
    if ticket is None:
        raise Http404
    return ticket, None


def _linked_ticket(token):
    """The ticket a valid signed link names, still its citizen's; else None."""
    ids = links.read_token(token)
    if ids is None:
        return None
    return _tickets_of(ids[1]).filter(pk=ids[0], citizen__erased_at__isnull=True).first()


@never_cache
@require_http_methods(["GET", "POST"])
def my_ticket(request, ticket_id):
    ticket, refusal = _my_ticket(request, ticket_id)
    if refusal is not None:
        return refusal
    urls = {"self": reverse("wagtail_helpdesk_my_ticket", args=[ticket.pk]),
            "file": lambda pk: reverse("wagtail_helpdesk_my_ticket_file", args=[ticket.pk, pk])}
    return _ticket_page(request, ticket, urls, in_area=True)


@never_cache
@require_http_methods(["GET", "POST"])
def ticket_link(request, token):
    ticket = _linked_ticket(token)
    if ticket is None:
        return render(request, INVALID, _context(), status=404)
    urls = {"self": reverse("wagtail_helpdesk_ticket_link", args=[token]),
            "file": lambda pk: reverse("wagtail_helpdesk_ticket_link_file", args=[token, pk])}
    return _ticket_page(request, ticket, urls, in_area=False)


@require_safe
def my_ticket_file(request, ticket_id, attachment_id):
    ticket, refusal = _my_ticket(request, ticket_id)
    if refusal is not None:
        return refusal
    return _serve(ticket, attachment_id)


@require_safe
def ticket_link_file(request, token, attachment_id):
    ticket = _linked_ticket(token)
    if ticket is None:
        raise Http404
    return _serve(ticket, attachment_id)


def _serve(ticket, attachment_id):
    attachment = (Attachment.objects.filter(ticket=ticket, pk=attachment_id,
                                            visibility=Visibility.PUBLIC).first())
    if attachment is None:
        raise Http404
    return serve_attachment(attachment)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 5}),
                           max_length=5000)


def _ticket_page(request, ticket, urls, *, in_area):
    citizen = ticket.citizen
    form = ReplyForm()
    error = ""
    max_files = citizen_file_limit()
    if request.method == "POST":
        form = ReplyForm(request.POST)
        files = request.FILES.getlist("files")
        allowed = throttle.allow("personal-reply", throttle.client_ip(request),
                                 get_setting("RATE_STEPS_PER_IP"))
        if not allowed:
            error = _("Too many attempts: please try again later.")
        elif len(files) > max_files:
            error = too_many_files(max_files)
        elif form.is_valid():
            actor = CitizenActor(citizen, request.user if in_area else None)
            try:
                services.add_citizen_message(ticket, actor, form.cleaned_data["body"],
                                             attachments=files)
            except HelpdeskError as exc:
                error = exc.message
            else:
                return redirect(f"{urls['self']}?sent=1#messages")
        else:
            error = _("Check the message.")
        ticket.refresh_from_db()
    items = timeline.entries(ticket)
    for item in items:
        item["files"] = [{"name": f.original_name, "size": f.size, "url": urls["file"](f.pk)}
                         for f in item["files"]]
    return render(request, DETAIL, _context(
        ticket=ticket, citizen=citizen, items=items, form=form, error=error,
        sent=request.GET.get("sent") == "1" and not error, in_area=in_area,
        self_url=urls["self"], rating_url=_rating_url(ticket),
        max_files=max_files, files_hint=files_help_text(max_files),
    ), status=400 if error else 200)


def _rating_url(ticket):
    """The rating page of the ticket's latest resolution, while not rated."""
    if ticket.status != Status.RESOLVED:
        return ""
    resolved = ticket.events.filter(kind=EventKind.RESOLVED).order_by("-pk").first()
    if resolved is None or rating.already_rated(ticket.pk, resolved.pk):
        return ""
    return reverse("wagtail_helpdesk_rating", args=[rating.rating_token(ticket.pk, resolved.pk)])


class PreferencesForm(forms.Form):
    notify_email = forms.BooleanField(label=_("By e-mail"), required=False)
    notify_app_io = forms.BooleanField(label=_("On the IO app"), required=False,
                                       help_text=_("When the municipality sends messages on IO."))
    email = forms.EmailField(label=_("E-mail address"), required=False, max_length=254)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("notify_email") and not cleaned.get("email"):
            self.add_error("email", _("Give an e-mail address, or untick “By e-mail”."))
        return cleaned


@never_cache
@require_http_methods(["GET", "POST"])
def my_preferences(request):
    citizen = verified_citizen(request.user)
    if citizen is None:
        return _login_needed(request)
    saved = False
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.set_citizen_preferences(CitizenActor(citizen, request.user),
                                             **form.cleaned_data)
            return redirect(reverse("wagtail_helpdesk_my_preferences") + "?saved=1")
    else:
        form = PreferencesForm(initial={"notify_email": citizen.notify_email,
                                        "notify_app_io": citizen.notify_app_io,
                                        "email": citizen.email})
        saved = request.GET.get("saved") == "1"
    return render(request, PREFERENCES, _context(
        citizen=citizen, form=form, saved=saved,
        app_io=bool(get_setting("APP_IO_API_KEY")) or _any_service_on_io(),
    ), status=400 if form.errors else 200)


def _any_service_on_io():
    from ..models import Service

    return Service.objects.exclude(io_api_key="").exists()

