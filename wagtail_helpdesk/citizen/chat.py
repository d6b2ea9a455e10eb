"""The citizen's live chat over HTTP: start a conversation, and — with the
conversation's token in the ``X-Helpdesk-Chat-Token`` header — its status,
sending (the fallback when the socket cannot open), files, leaving, turning
it into a request, the transcript and the rating. Thin: parse, check, call
:mod:`wagtail_helpdesk.services.conversations`, answer JSON.

CSRF: the start is checked (it has no other credential; answered as JSON).
The others carry the conversation's token in a header, which another site
can neither know nor set on a cross-site request: the token is the
credential, the browser's cookies are not used, so they are exempt.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from .. import throttle
from ..attachments import serve_attachment
from ..conf import get_setting
from ..conversations import transcript
from ..conversations.views import TOKEN_HEADER, too_many
from ..errors import GuardFailed, HelpdeskError
from ..models import (
    Attachment,
    ConversationMessage,
    ConversationState,
    Service,
    Visibility,
)
from ..services import conversations
from ..services.submissions import verified_citizen
from ..services.transcripts import email_transcript, masked
from .chatforms import CallbackForm, ChatRatingForm, ChatStartForm, field_errors
from .views import _csrf_failed

#: Files a client address may send per hour.
UPLOADS_PER_HOUR = 60
#: Messages sent over HTTP (the fallback) per client address per hour.
SENDS_PER_HOUR = 600
#: Requests with a conversation's token per minute (status, leave, rating…);
#: the widget asks for its status every 10 s and polls every 3 s at most.
REQUESTS_PER_MINUTE = 60
#: Actions (leave, turn into a request, rate, transcript by e-mail) per
#: conversation per minute.
ACTIONS_PER_MINUTE = 20
#: Transcripts built (text or PDF) per conversation per minute.
TRANSCRIPTS_PER_MINUTE = 6
#: Availability look-ups per client address per hour.
LOOKUPS_PER_HOUR = 600


def _error(message, status=400, fields=None):
    data = {"error": str(message)}
    if fields:
        data["fields"] = {k: [str(v)] if not isinstance(v, list) else [str(m) for m in v]
                          for k, v in fields.items()}
    return JsonResponse(data, status=status)


def _refused(exc):
    if isinstance(exc, PermissionDenied):
        return _error(str(exc) or _("You cannot see this conversation."), status=403)
    return _error(exc.message, fields=exc.field_errors)


def _conversation(request, scope="chat_use", per_minute=None):
    """The conversation of the request's token, or (None, an answer). Each
    conversation's requests are limited per minute (``scope``: a bucket of
    its own for the heavier ones)."""
    if throttle.bad_keys_exceeded("chat", request):
        return None, too_many(throttle.bad_key_retry_after())
    c = conversations.by_token(request.headers.get(TOKEN_HEADER, ""))
    if c is None:
        throttle.allow_bad_key("chat", request)
        return None, _error(_("This conversation does not exist or has expired."), status=403)
    if not throttle.allow(scope, c.pk, per_minute or REQUESTS_PER_MINUTE, window=60):
        return None, too_many(throttle.retry_after(60))
    return c, None


def _operator_name(c):
    if not c.operator_id:
        return ""
    return c.operator.first_name or c.operator.get_username()


def _status(c):
    """Where the conversation is: its state, the queue place and an honest
    wait (None when unknown), who is available, the operator's name."""
    waiting = c.state == ConversationState.WAITING
    place, wait = conversations.position(c) if waiting else (None, None)
    return {"conversation": c.pk, "state": c.state, "last_seq": c.last_seq,
            "reference": c.ticket.reference, "place": place, "wait": wait,
            "available": conversations.availability(c.office_id) if waiting else None,
            "operator": _operator_name(c)}


# Before the conversation --------------------------------------------------

@never_cache
@require_safe
def availability(request):
    """How many operators of the topic's office are available now."""
    if not throttle.allow("chat_lookup", throttle.client_ip(request), LOOKUPS_PER_HOUR):
        return too_many(throttle.retry_after())
    pk = request.GET.get("service", "")
    service = (Service.objects.active().select_related("office").filter(pk=pk).first()
               if pk.isdigit() else None)
    if service is None:
        return _error(_("Choose one of the services listed."), status=404)
    return JsonResponse({"service": service.pk,
                         "available": conversations.availability(service.office)})


@csrf_exempt  # checked below, to answer JSON with a message instead of a bare 403
@never_cache
@require_POST
def start(request):
    if _csrf_failed(request):
        return _error(_("Your session has expired: copy what you wrote, reload the page "
                        "and start the chat again."), status=403)
    if not get_setting("CHAT_ENABLED"):
        return _error(_("The chat is not available at the moment."), status=403)
    ip = throttle.client_ip(request)
    if not throttle.allow("chat_start", ip, get_setting("RATE_TICKETS_PER_IP")):
        return too_many(throttle.retry_after())
    verified = verified_citizen(request.user)
    form = ChatStartForm(request.POST, verified=verified)
    if form.is_bot:
        return _error(_("This request is not valid."))
    if not form.is_valid():
        return _error(_("Check the fields marked."), fields=field_errors(form))
    who = verified.pk if verified else form.cleaned_data["email"].lower()
    if not throttle.allow("chat_person", who, get_setting("RATE_TICKETS_PER_PERSON")):
        return too_many(throttle.retry_after())
    try:
        c = conversations.start(
            service=form.service_object, body=form.cleaned_data["body"],
            user=request.user if verified else None, person=form.person,
            client_id=form.cleaned_data["client_id"] or None,
            site=getattr(request, "site", None),
            user_agent=request.headers.get("User-Agent", "")[:500])
    except (HelpdeskError, PermissionDenied) as exc:
        return _refused(exc)
    return JsonResponse({"token": c.token, **_status(c)}, status=201)


# The conversation (token header) -------------------------------------------

@never_cache
@require_safe
def status(request):
    c, refusal = _conversation(request)
    return refusal or JsonResponse(_status(c))


def _acting(request, action):
    """Run ``action(conversation, actor)`` for the token's citizen; JSON.
    Actions have their own allowance: polling the status never uses it up."""
    c, refusal = _conversation(request, "chat_act", ACTIONS_PER_MINUTE)
    if refusal:
        return refusal
    try:
        answer = action(c, conversations.citizen_actor(c))
    except (HelpdeskError, PermissionDenied) as exc:
        return _refused(exc)
    return answer if isinstance(answer, HttpResponse) else JsonResponse(answer)


def _sent(message):
    return {"client_id": message.client_id, "seq": message.seq}


@csrf_exempt  # the token header is the credential (see the module's docstring)
@never_cache
@require_POST
def send(request):
    if not throttle.allow("chat_send", throttle.client_ip(request), SENDS_PER_HOUR):
        return too_many(throttle.retry_after())
    return _acting(request, lambda c, actor: _sent(conversations.send(
        c, actor, request.POST.get("body", ""), request.POST.get("client_id", ""))))


@csrf_exempt
@never_cache
@require_POST
def upload(request):
    if not throttle.allow("chat_upload", throttle.client_ip(request), UPLOADS_PER_HOUR):
        return too_many(throttle.retry_after())
    files = request.FILES.getlist("file")

    def act(c, actor):
        if len(files) != 1:
            message = _("Choose one file to send.")
            raise GuardFailed(message, {"file": message})
        return _sent(conversations.send_file(c, actor, files[0],
                                             request.POST.get("client_id", "")))
    return _acting(request, act)


@never_cache
@require_safe
def attachment(request, attachment_id):
    """A file of the token's conversation the citizen may see (public, sent
    in this conversation); 404 for any other."""
    c, refusal = _conversation(request)
    if refusal:
        return refusal
    sent_here = ConversationMessage.objects.filter(
        conversation_id=c.pk, attachment_id=attachment_id, visibility=Visibility.PUBLIC)
    found = (Attachment.objects.filter(pk=attachment_id, ticket_id=c.ticket_id,
                                       visibility=Visibility.PUBLIC).first()
             if sent_here.exists() else None)
    if found is None:
        raise Http404
    return serve_attachment(found)


@csrf_exempt
@never_cache
@require_POST
def to_ticket(request):
    """"Trasforma in richiesta", or with ``callback_phone`` "Richiamatemi"."""
    phone = ""
    if "callback_phone" in request.POST:
        form = CallbackForm(request.POST)
        if not form.is_valid():
            return _error(_("Check the phone number."), fields=field_errors(form))
        phone = form.cleaned_data["callback_phone"]

    def act(c, actor):
        c = conversations.to_ticket(c, actor, callback_phone=phone)
        return _status(c)
    return _acting(request, act)


@csrf_exempt
@never_cache
@require_POST
def leave(request):
    """The citizen leaves (or stayed inactive): waiting, it becomes a
    request; active, the chat ends."""
    def act(c, actor):
        if c.state == ConversationState.WAITING:
            c = conversations.to_ticket(c, actor)
        elif c.state == ConversationState.ACTIVE:
            c = conversations.end(c, actor)
        else:
            raise GuardFailed(_("This conversation has ended."))
        return _status(c)
    return _acting(request, act)


def _download(content, content_type, name):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@require_safe
def transcript_text(request):
    c, refusal = _conversation(request, "chat_transcript_file", TRANSCRIPTS_PER_MINUTE)
    if refusal:
        return refusal
    return _download(transcript.as_text(c), "text/plain; charset=utf-8",
                     transcript.file_name(c, "txt"))


@never_cache
@require_safe
def transcript_pdf(request):
    c, refusal = _conversation(request, "chat_transcript_file", TRANSCRIPTS_PER_MINUTE)
    if refusal:
        return refusal
    return _download(transcript.as_pdf(c), "application/pdf", transcript.file_name(c, "pdf"))


@csrf_exempt
@never_cache
@require_POST
def transcript_email(request):
    def act(c, actor):
        email_transcript(c, actor, language=translation.get_language())
        return {"message": _("We have sent the transcript to %(address)s.")
                % {"address": masked(c.citizen.email)}}
    return _acting(request, act)


@csrf_exempt
@never_cache
@require_POST
def rate(request):
    form = ChatRatingForm(request.POST)
    if not form.is_valid():
        return _error(_("Choose a rating from 1 to 5."), fields=field_errors(form))

    def act(c, actor):
        conversations.rate(c, actor, form.cleaned_data["score"],
                           form.cleaned_data["comment"])
        return {"message": _("Thank you for your rating.")}
    return _acting(request, act)
