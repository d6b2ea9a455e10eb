"""Live chat transport: Channels consumers, routing, the short-polling view,
the ASGI helper and the system checks. The conversations' data and every change
to them live in :mod:`wagtail_helpdesk.models.conversations` and
:mod:`wagtail_helpdesk.services.conversations`.

Importing this package does not import Channels: only ``consumers``,
``routing`` and ``asgi`` need it.
"""
