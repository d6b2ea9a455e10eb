"""The short-polling fallback (networks that block WebSockets): ``GET
…/messages/?after=N`` answers at once with the rows after N, never waits.

The citizen's request carries the conversation's token in the
``X-Helpdesk-Chat-Token`` header; an operator's, their session.
"""

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import throttle
from ..models import Conversation
from ..services import conversations
from .rows import batch, by_operator, citizens

TOKEN_HEADER = "X-Helpdesk-Chat-Token"  # noqa: S105 (a header name)
#: Polls of one conversation per minute (the widget polls every 3 s at most).
POLLS_PER_MINUTE = 60


def too_many(retry_after=None):
    """429 with ``Retry-After``: the chat's HTTP endpoints' one answer to a
    client over its allowance."""
    response = JsonResponse({"error": _("Too many requests: wait a little, then try again.")},
                            status=429)
    response["Retry-After"] = str(retry_after or throttle.retry_after(60))
    return response


def _after(request):
    try:
        return max(int(request.GET.get("after", 0)), 0)
    except ValueError:
        return None


def _answer(request, conversation, own, internal=False):
    after = _after(request)
    if after is None:
        return JsonResponse({"error": _("This request is not valid.")}, status=400)
    rows = conversations.messages_after(conversation, after, internal=internal)
    return JsonResponse(batch(conversation, rows, own))


@never_cache
@require_GET
def citizen_messages(request):
    if throttle.bad_keys_exceeded("chat", request):
        return too_many()
    conversation = conversations.by_token(request.headers.get(TOKEN_HEADER, ""))
    if conversation is None:
        throttle.allow_bad_key("chat", request)
        return JsonResponse(
            {"error": _("This conversation does not exist or has expired.")}, status=403)
    if not throttle.allow("chat_poll", conversation.pk, POLLS_PER_MINUTE, window=60):
        return too_many()
    return _answer(request, conversation, citizens)


@never_cache
@require_GET
def operator_messages(request, conversation_id):
    conversation = (Conversation.objects.select_related("ticket", "citizen")
                    .filter(pk=conversation_id).first())
    if conversation is None or not conversations.can_read(request.user, conversation):
        return JsonResponse({"error": _("You cannot see this conversation.")}, status=403)
    try:
        conversations.follow(request.user, conversation)  # a supervisor: monitoring, recorded
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    return _answer(request, conversation, by_operator(request.user.pk), internal=True)
