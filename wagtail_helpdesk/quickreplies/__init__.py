"""Quick replies: ready-made texts operators insert in their replies.

* :mod:`.placeholders` — the ``{cittadino}``-style placeholders and how they are filled;
* :mod:`.policy` — who may see, insert and change which replies;
* the admin views are in :mod:`wagtail_helpdesk.admin.quickreplies`, the reply
  box's choices in :mod:`wagtail_helpdesk.admin.tickets.replybox`, the model in
  :mod:`wagtail_helpdesk.models.quickreplies`.
"""
