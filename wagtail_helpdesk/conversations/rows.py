"""Messages as JSON rows, the same for the sockets and the polling view."""

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ..models import AuthorKind


def notice_text(message):
    """A system notice in the active language."""
    data = message.data or {}
    name = data.get("name") or _("An operator")
    texts = {
        "joined": _("%(name)s joined the conversation.") % {"name": name},
        "left": _("%(name)s left the conversation: please wait for another operator.")
        % {"name": name},
        "ended": _("The operator ended the conversation."),
        "citizen_left": _("The citizen left the conversation."),
        "closed": _("The conversation is closed."),
        "transferred": _("The conversation was transferred to %(office)s: please wait for an "
                         "operator.") % {"office": data.get("office", "")},
        "to_ticket": _("The conversation became the request %(reference)s: we will answer "
                       "by e-mail.") % {"reference": data.get("reference", "")},
        "callback": _("The conversation became the request %(reference)s: we will call you "
                      "back.") % {"reference": data.get("reference", "")},
        "consult": _("%(name)s was invited to consult: only operators read your exchange "
                     "with them.") % {"name": name},
        "colleague_joined": _("%(name)s, a colleague, joined the conversation.")
        % {"name": name},
        "colleague_left": _("%(name)s left the conversation.") % {"name": name},
        "handed_over": _("%(name)s continues the conversation.") % {"name": name},
        "monitored": _("%(name)s, a supervisor, is following this conversation.")
        % {"name": name},
        "supervisor_joined": _("%(name)s, a supervisor, joined the conversation.")
        % {"name": name},
    }
    return texts.get(message.event, "")


def row(message, mine=False):
    """One message: sequence number, author, text, time; the sender's own id
    (``client_id``) only to the reader who sent it (``mine``), who matches it
    with what they sent while offline."""
    name = ""
    if message.author_kind == AuthorKind.OPERATOR and message.author is not None:
        name = message.author.first_name or message.author.get_username()
    return {
        "seq": message.seq,
        "client_id": message.client_id if mine else None,
        "author": message.author_kind,
        "name": name,
        "body": message.body if message.author_kind != AuthorKind.SYSTEM else notice_text(message),
        "event": message.event,
        "created": message.created_at.isoformat(),
        # The time as the site's pages show it (its TIME_ZONE), whatever the
        # browser's clock says.
        "time": date_format(timezone.localtime(message.created_at), "H:i"),
        "visibility": message.visibility,
        "attachment": _attachment(message),
    }


def _attachment(message):
    a = message.attachment if message.attachment_id else None
    if a is None:
        return None
    return {"id": a.pk, "name": a.original_name, "size": a.size, "content_type": a.content_type}


def citizens(message):
    """Whether the citizen wrote ``message`` (the citizen reader's own)."""
    return message.author_kind == AuthorKind.CITIZEN


def by_operator(user_id):
    """Whether the operator ``user_id`` wrote a message (that reader's own)."""
    return lambda message: (message.author_kind == AuthorKind.OPERATOR
                            and message.author_id == user_id)


def batch(conversation, messages, own):
    """The answer to "what is there after N": rows, and where the client is.
    ``own(message)``: whether the reader wrote it (see :func:`row`)."""
    return {
        "type": "messages",
        "conversation": conversation.pk,
        "state": conversation.state,
        "last_seq": conversation.last_seq,
        "messages": [row(m, own(m)) for m in messages],
    }
