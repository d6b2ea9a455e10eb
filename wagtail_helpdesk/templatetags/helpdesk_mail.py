"""Filters of the e-mail templates."""

import html
import re

from django import template
from django.conf import settings
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from ..conf import get_setting

register = template.Library()

_URL = re.compile(r"https?://[^\s<>\"']+")


@register.filter
def our_links(text):
    """The text, escaped, with the site's own addresses (admin and public
    site) made into links; any other address — e.g. in a citizen's message —
    stays plain text, so an e-mail never carries someone else's clickable link."""
    prefixes = [p.rstrip("/") for p in (getattr(settings, "WAGTAILADMIN_BASE_URL", ""),
                                        get_setting("SITE_URL")) if p]

    def link(match):
        shown = match.group(0)
        url = html.unescape(shown)
        if any(url == p or url.startswith(p + "/") for p in prefixes):
            return f'<a href="{shown}">{shown}</a>'
        return shown

    # Safe: everything was escaped first; only escaped URLs are wrapped in anchors.
    return mark_safe(_URL.sub(link, str(conditional_escape(text))))  # noqa: S308
