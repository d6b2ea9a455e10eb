"""The example site as an ASGI application: the site and the help desk's live
chat (WebSockets under /ws/helpdesk/). Serve it with uvicorn or daphne, as
``make demo`` does: ``uvicorn example_site.asgi:application --ws
websockets-sansio --lifespan off``; a WSGI site may keep its own server and
send only /ws/ (and /helpdesk/chat/) to this one."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings")
django_app = get_asgi_application()  # first: it sets Django up

from wagtail_helpdesk.conversations.asgi import application as helpdesk_asgi  # noqa: E402

application = helpdesk_asgi(django_app)
