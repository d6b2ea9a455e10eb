"""The citizens' form submissions and receipts. Thin: find the page and the
block, check the limits, let the flow handle the step, redirect back
(post/redirect/get, also when the input is refused: the page shows it with
its errors from the session)."""

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from wagtail.models import Page

from .. import throttle
from ..blocks import HelpdeskFormBlock
from ..conf import get_setting
from ..models import Ticket
from .flows import RECEIPTS_KEY
from .receipt import receipt_pdf
from .rendering import block_dom_id, focus_fragment, privacy_notice
from .wizard import Wizard

ACTIONS = {"next", "back", "submit", "restart", "goto", "save", "resume", "discard"}


def find_block(page, block_id):
    """The helpdesk form block ``block_id`` in any StreamField of ``page``."""
    from wagtail.fields import StreamField

    for field in page._meta.get_fields():
        if not isinstance(field, StreamField):
            continue
        for child in getattr(page, field.name) or []:
            if child.id == block_id and isinstance(child.block, HelpdeskFormBlock):
                return child
    return None


def visible_page(request, page_id):
    # Restricted pages are served to whoever satisfies their restrictions.
    page = get_object_or_404(Page.objects.live().specific(), pk=page_id)
    for restriction in page.get_view_restrictions():
        if not restriction.accept_request(request):
            raise Http404
    return page


def _back(page, block_id, wizard=None):
    """Back to the page, at the element to focus: the error summary, the
    step's heading or the confirmation's (the block itself when the journey
    cannot start)."""
    fragment = focus_fragment(wizard, block_id) if wizard else block_dom_id(block_id)
    return HttpResponseRedirect(f"{page.url}#{fragment}")


def _csrf_failed(request):
    """Whether the CSRF check fails (checked here to answer with the form
    again and a message instead of a bare 403)."""
    checker = CsrfViewMiddleware(lambda r: None)
    return checker.process_view(request, None, (), {}) is not None


@csrf_exempt  # checked below, to keep the citizen on the page with a clear message
@never_cache
@require_POST
def submit(request, page_id, block_id):
    page = visible_page(request, page_id)
    child = find_block(page, block_id)
    if child is None:
        raise Http404
    if _csrf_failed(request):
        # Nothing of this POST is used; only the notice is stored.
        wizard = Wizard(request.session, page.pk, block_id)
        wizard.notice(_("Your session had expired: the form has been reloaded. "
                        "Check your data and send it again."))
        wizard.save()
        return _back(page, block_id, wizard)
    action = request.POST.get("action", "next")
    if action not in ACTIONS:
        action = "next"
    ip = throttle.client_ip(request)
    wizard = Wizard(request.session, page.pk, block_id)
    if not throttle.allow("steps", ip, get_setting("RATE_STEPS_PER_IP")):
        return _too_many(request, page, block_id, wizard)
    if privacy_notice(child.value, request, page)["privacy_missing"]:
        # The form is not shown without a privacy notice: nothing posted to it is used.
        return _back(page, block_id)
    flow = child.block.flow_class(child.value, request, wizard)
    if flow.needs_login and action != "restart":
        return _back(page, block_id)
    if action == "submit" and not wizard.done:
        person = (flow.verified.pk if flow.verified else
                  wizard.data.get("fiscal_code") or wizard.data.get("email"))
        if not (throttle.allow("tickets", ip, get_setting("RATE_TICKETS_PER_IP"))
                and throttle.allow("person", person, get_setting("RATE_TICKETS_PER_PERSON"))):
            return _too_many(request, page, block_id, wizard)
    flow.handle(action, request.POST, request.FILES)
    return _back(page, block_id, wizard)


def _too_many(request, page, block_id, wizard):
    wizard.notice(_("You have sent too many requests in the last hour: please try "
                    "again later, or contact the municipality's offices."))
    wizard.save()
    response = _back(page, block_id, wizard)
    response.status_code = 303
    return response


@never_cache
@require_safe
def receipt(request, ticket_id):
    """The PDF receipt, for the browser session that sent the ticket or the
    citizen it belongs to (logged in with SPID/CIE)."""
    ticket = get_object_or_404(
        Ticket.objects.select_related("citizen", "service__category", "report_category",
                                      "office"), pk=ticket_id)
    allowed = ticket_id in (request.session.get(RECEIPTS_KEY) or [])
    user = request.user
    if not allowed and user.is_authenticated and ticket.citizen is not None:
        allowed = ticket.citizen.user_id == user.pk
    if not allowed or ticket.status == "draft":
        raise Http404
    response = HttpResponse(receipt_pdf(ticket), content_type="application/pdf")
    name = (ticket.short_code or f"ticket-{ticket.pk}").replace("/", "-")
    response["Content-Disposition"] = f'attachment; filename="ricevuta-{name}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
