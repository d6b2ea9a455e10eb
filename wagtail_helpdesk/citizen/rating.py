"""The page of the rating link in the "resolved" e-mail: 1–5 and a comment,
without logging in; signed, single-use, expiring, rate-limited."""

from django.conf import settings
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import throttle
from ..conf import get_setting
from ..errors import GuardFailed
from ..models import Ticket
from ..services import rating

TEMPLATE = "wagtail_helpdesk/citizen/rating.html"


@never_cache
@require_http_methods(["GET", "POST"])
def rate(request, token):
    ids = rating.read_token(token)
    ticket = (Ticket.objects.select_related("citizen").filter(pk=ids[0]).first()
              if ids else None)
    if ticket is None:
        return render(request, TEMPLATE, {"state": "invalid"}, status=404)
    # The page speaks the language the e-mail was written in: the citizen's.
    language = ticket.citizen.language if ticket.citizen_id else ""
    if language not in {code for code, _name in settings.LANGUAGES}:
        return _rate(request, ids, ticket)
    with translation.override(language):
        request.LANGUAGE_CODE = language
        return _rate(request, ids, ticket)


def _rate(request, ids, ticket):
    context = {"ticket": ticket, "scores": range(1, 6), "state": "form",
               "comment_max": rating.COMMENT_MAX}
    if rating.already_rated(*ids):
        return render(request, TEMPLATE, {**context, "state": "done"})
    if request.method == "POST":
        if not throttle.allow("rating", throttle.client_ip(request),
                              get_setting("RATE_STEPS_PER_IP")):
            return render(request, TEMPLATE, {**context, "state": "limited"}, status=429)
        try:
            rating.rate(*ids, request.POST.get("score"), request.POST.get("comment", ""))
        except GuardFailed as exc:
            return render(request, TEMPLATE, {
                **context, "error": exc.message, "field_errors": exc.field_errors,
                "score": request.POST.get("score", ""),
                "comment": request.POST.get("comment", "")}, status=400)
        return render(request, TEMPLATE, {**context, "state": "thanks"})
    return render(request, TEMPLATE, context)
