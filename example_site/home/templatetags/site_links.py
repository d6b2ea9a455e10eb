"""The example site's header and footer links (the AgID-checked ones), found
in one query per page view instead of one per link."""

from django import template
from django.db.models import Q
from wagtail.models import Page, Site

register = template.Library()

#: Slug of each linked page, by the name the templates use.
SLUGS = {"services": "servizi", "accessibility": "dichiarazione-di-accessibilita",
         "legal_notes": "note-legali"}


@register.simple_tag(takes_context=True)
def site_links(context):
    """``{name: url}`` of the live pages in :data:`SLUGS` under the request's
    site (missing ones left out), and ``privacy``: the Helpdesk settings'
    privacy notice when live."""
    request = context.get("request")
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        return {}
    from wagtail_helpdesk.models import HelpdeskSettings

    privacy_id = HelpdeskSettings.for_request(request).privacy_page_id
    by_slug = {slug: name for name, slug in SLUGS.items()}
    links = {}
    for page in (Page.objects.live().descendant_of(site.root_page, inclusive=True)
                 .filter(Q(slug__in=by_slug) | Q(pk=privacy_id or 0))):
        url = page.get_url(request)
        if page.pk == privacy_id:
            links["privacy"] = url
        if page.slug in by_slug:
            links[by_slug[page.slug]] = url
    return links
