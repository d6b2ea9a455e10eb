"""The workspace's JSON answers for its scripts: sending a message or a file
over HTTP (when the socket is down), the colleagues a consult may invite, and
the incoming-conversation notifier."""

import json

from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from ...conversations.rows import notice_text
from ...errors import HelpdeskError
from ...formats import person_name
from ...models import AuthorKind, OfficeMembership
from ...services import conversations as chat
from . import workspace_data as data

#: Colleagues listed by one search.
COLLEAGUES_SHOWN = 30


def wants_json(request):
    return ("application/json" in request.headers.get("Accept", "")
            or request.headers.get("X-Requested-With") == "XMLHttpRequest")


def message_row(message, user):
    """A message as the workspace's script reads it (the socket's row, with
    the visibility, the attachment and whether ``user`` wrote it)."""
    attachment = message.attachment
    name = ""
    if message.author_kind == AuthorKind.OPERATOR and message.author is not None:
        name = message.author.first_name or message.author.get_username()
    return {
        "seq": message.seq,
        "author": message.author_kind,
        "name": name,
        "body": (message.body if message.author_kind != AuthorKind.SYSTEM
                 else notice_text(message)),
        "event": message.event,
        "created": message.created_at.isoformat(),
        "visibility": getattr(message, "visibility", "public") or "public",
        "mine": message.author_kind == AuthorKind.OPERATOR and message.author_id == user.pk,
        "attachment": None if attachment is None else {
            "id": attachment.pk, "name": attachment.original_name, "size": attachment.size,
            "content_type": attachment.content_type},
    }


def _error(exc):
    if isinstance(exc, PermissionDenied):
        return JsonResponse({"type": "error", "message": str(exc) if exc.args else
                             _("You cannot work on this conversation.")}, status=403)
    return JsonResponse({"type": "error", "message": str(exc.message),
                         "fields": {k: str(v) for k, v in exc.field_errors.items()}},
                        status=400)


def _sent(message, user):
    return JsonResponse({"type": "sent", "client_id": message.client_id, "seq": message.seq,
                         "row": message_row(message, user)})


def _flag(value):
    return value in (True, "1", "true", "on")


def send_json(request, c):
    """``POST {client_id, body, private}`` (JSON or a form): the same as the
    socket's ``send`` frame."""
    if request.content_type == "application/json":
        try:
            frame = json.loads(request.body or b"{}")
        except ValueError:
            frame = None
        if not isinstance(frame, dict):
            return JsonResponse({"type": "error", "message": _("This request is not valid.")},
                                status=400)
    else:
        frame = request.POST
    try:
        message = chat.send(c, request.user, frame.get("body"), frame.get("client_id"),
                            private=_flag(frame.get("private")))
    except (HelpdeskError, PermissionDenied) as exc:
        return _error(exc)
    return _sent(message, request.user)


def send_file_json(request, c):
    """``POST`` multipart ``file``, ``client_id``, ``private``: a file in the chat."""
    upload = request.FILES.get("file")
    if upload is None:
        return JsonResponse({"type": "error", "message": _("Choose a file to send."),
                             "fields": {"file": _("This field is required.")}}, status=400)
    try:
        message = chat.send_file(c, request.user, upload, request.POST.get("client_id"),
                                 private=_flag(request.POST.get("private")))
    except (HelpdeskError, PermissionDenied) as exc:
        return _error(exc)
    return _sent(message, request.user)


def candidates(c):
    """``[(user, presence)]``: whom ``c``'s operator may invite (two queries)."""
    return [item if isinstance(item, (tuple, list)) else (item, getattr(item, "presence", None))
            for item in chat.consult_candidates(c)]


def colleagues(request, c):
    """``GET ?q=``: the colleagues who may be invited to ``c`` whose name or
    username contains ``q``, with their presence and offices (three queries)."""
    query = (request.GET.get("q") or "").strip().lower()
    found = [(user, status) for user, status in candidates(c)
             if not query or query in person_name(user).lower()
             or query in user.get_username().lower()][:COLLEAGUES_SHOWN]
    offices = {}
    for m in (OfficeMembership.objects.filter(user_id__in=[u.pk for u, _s in found])
              .select_related("office").order_by("office__name")):
        offices.setdefault(m.user_id, []).append(m.office.name)
    return JsonResponse({"colleagues": [{
        "id": user.pk,
        "name": person_name(user),
        "offices": offices.get(user.pk, []),
        "presence": getattr(status, "value", status) or "",
        "presence_label": str(getattr(status, "label", "") or ""),
    } for user, status in found]})


def incoming_json(request):
    """The notifier's answer: presence, places held, the waiting conversations."""
    incoming = data.incoming(request.user)
    workspace = reverse("wagtail_helpdesk_chat:workspace")
    return JsonResponse(incoming.as_json(
        accept_url=lambda pk: reverse("wagtail_helpdesk_chat:accept", args=[pk]),
        workspace_url=workspace))
