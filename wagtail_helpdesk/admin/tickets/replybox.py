"""What the ticket page's reply box offers: the quick replies grouped for
its ``<select>`` and as data for its searchable list."""

from django.utils.translation import gettext_lazy as _

from ... import choices_cache
from ...quickreplies.policy import insertable_replies

#: How much of a reply's text the reply box's search list shows.
PREVIEW_LENGTH = 140


def reply_box_choices(user, ticket):
    """What the reply box offers (one query): ``(groups, data)`` — see
    :func:`reply_box_with_replies`."""
    groups, data, _replies = reply_box_with_replies(user, ticket)
    return groups, data


def reply_box_with_replies(user, ticket):
    """What the reply box offers (one query): ``(groups, data, replies)`` —
    groups of replies (personal first, then by office) for the ``<select>``,
    plain dicts for the script's searchable list, and the replies as loaded
    (the assist's suggestions rank the same ones: no second query).

    The replies are kept in the cache for ``user`` and the ticket's office
    (:mod:`wagtail_helpdesk.choices_cache`: a change to a quick reply, an
    office, the user's offices or permissions shows at once with a shared
    cache); inserting one only fills the text box, the reply is what is sent."""
    def read():
        return list(insertable_replies(user, ticket).select_related("office")
                    .only("pk", "title", "shortcut", "category", "body", "owner_id",
                          "updated_at", "office__name"))

    replies = choices_cache.cached(f"quick_replies:{user.pk}:{ticket.office_id}", read)
    personal = sorted((r for r in replies if r.owner_id), key=lambda r: r.title.lower())
    by_office = {}
    for reply in replies:
        if reply.office_id:
            by_office.setdefault(reply.office.name, []).append(reply)
    groups = [(_("Personal"), personal)] if personal else []
    groups += [(name, sorted(items, key=lambda r: r.title.lower()))
               for name, items in sorted(by_office.items())]
    data = [
        {"id": reply.pk, "title": reply.title, "shortcut": reply.shortcut,
         "category": reply.category, "scope": str(label),
         "preview": " ".join(reply.body.split())[:PREVIEW_LENGTH]}
        for label, items in groups for reply in items
    ]
    return [{"label": label, "replies": items} for label, items in groups], data, replies
