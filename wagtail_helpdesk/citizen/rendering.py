"""What a form block needs to render its current step. Reads the session and
the catalogue; writes nothing (the page stays free of side effects, except
marking the response as not cacheable, see :mod:`wagtail_helpdesk.middleware`)."""

from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from ..conf import get_setting
from ..maps import map_settings
from . import geocoding
from .flows import RECEIPTS_KEY
from .links import login_url, personal_area_url
from .wizard import SESSION_KEY, Wizard

#: Set on the request when a page holds a helpdesk form (read by the middleware).
FORM_RENDERED = "_wagtail_helpdesk_form"


class _NoSession(dict):
    """Block previews and bare requests have no session: an empty one."""

    modified = False


def request_site(request):
    """The Wagtail site of ``request`` (None: the default site's settings apply)."""
    if request is None:
        return None
    site = getattr(request, "site", None)
    if site is None:
        from django.core.exceptions import DisallowedHost
        from wagtail.models import Site

        try:
            site = Site.find_for_request(request)
        except (DisallowedHost, KeyError):  # a bare request: the default site's settings
            site = None
    return site


def _settings(request):
    """The Helpdesk settings of the request's site, read once per request
    (Wagtail keeps them on the request; the page's chrome reads them too)."""
    from django.core.exceptions import DisallowedHost

    from ..models import HelpdeskSettings
    from ..services.core import helpdesk_settings

    if request is not None:
        try:
            return HelpdeskSettings.for_request(request)
        except (DisallowedHost, KeyError, HelpdeskSettings.DoesNotExist):
            pass  # a bare request (a block preview): the default site's settings
    return helpdesk_settings(request_site(request))


def _privacy_url(value, request):
    page = value.get("privacy_page")
    if page is None:
        page = _settings(request).privacy_page
    try:
        # ``specific_deferred``: the address needs only the base page's
        # fields; the specific row is read only if its class needs it.
        return page.specific_deferred.get_url(request) if page is not None and page.live else ""
    except AttributeError:
        return ""


def _shown_to_editor(request, page):
    """Whether the block is shown to somebody who can fix its page: a preview
    (in the admin, or a block with no page yet) or a user who may edit it."""
    if page is None or getattr(request, "is_preview", False):
        return True
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    try:
        return page.permissions_for_user(user).can_edit()
    except AttributeError:
        return False


def _settings_url(request):
    """The admin's Settings → Helpdesk, where the privacy page is chosen."""
    site = request_site(request)
    args = ["wagtail_helpdesk", "helpdesksettings"] + ([site.pk] if site is not None else [])
    try:
        return reverse("wagtailsettings:edit", args=args)
    except NoReverseMatch:
        return ""


def privacy_notice(value, request, page):
    """The privacy notice of a form block: its URL, or, when there is none,
    what to show instead of the form (GDPR art. 13: no consent without the
    notice in front of the citizen)."""
    url = _privacy_url(value, request)
    if url:
        return {"privacy_url": url, "privacy_missing": False}
    editor = _shown_to_editor(request, page)
    return {"privacy_url": "", "privacy_missing": True, "privacy_editor": editor,
            "privacy_settings_url": _settings_url(request) if editor else ""}


def _login_url(request, page):
    """The citizens' login (:func:`.links.login_url`, never the admin's), back
    to this page; "" when the site has none."""
    url = login_url()
    if not url:
        return ""
    target = page.url if page is not None else (request.path if request else "/")
    return f"{url}?{urlencode({'next': target})}"


def _errors(forms, file_errors, notices):
    """The error summary: (field id, label, message) for every error, in order."""
    summary = [("", "", message) for message in notices]
    for form in forms.values():
        for error in form.non_field_errors():
            summary.append(("", "", error))
        for field in form:
            for error in field.errors:
                summary.append((field.id_for_label, field.label, error))
    # Named as the form labels the field ("Photos" on a report).
    files = next((form["attachments"] for form in forms.values()
                  if "attachments" in form.fields), None)
    for message in file_errors:
        summary.append((files.id_for_label, files.label, message) if files is not None
                       else ("", _("Attachments"), message))
    return summary


def _place_urls(value, page_id, block_id):
    """The map's JSON endpoints (address search only when geocoding is on)."""
    if not page_id:
        return {}
    args = [page_id, block_id]
    urls = {}
    if geocoding.enabled():
        urls["search_url"] = reverse("wagtail_helpdesk_place_search", args=args)
        urls["reverse_url"] = reverse("wagtail_helpdesk_place_reverse", args=args)
    if value.get("nearby_radius"):
        urls["nearby_url"] = reverse("wagtail_helpdesk_nearby", args=args)
    return urls


def block_dom_id(block_id):
    """The id of a form block's element (the ids of its parts start with it)."""
    return f"helpdesk-{str(block_id)[:8]}"


def focus_fragment(wizard, block_id):
    """Where the page goes back to after a POST: the element to focus (the
    browser focuses a fragment's target that takes focus, also without
    JavaScript; the script focuses the same one, so neither steals it)."""
    return f"{block_dom_id(block_id)}-{wizard.focus}"


def _same_text(one, other):
    return " ".join(str(one or "").split()).casefold() == " ".join(
        str(other or "").split()).casefold()


def _headings(value, page, number, done):
    """One heading hierarchy under the page's own title (h1): the block's
    heading (h2) only when it says something else than the page's title, the
    step, errors and confirmation below it; the introduction once, on the
    first step, unless the page already says it."""
    heading = (value.get("heading") or "").strip()
    show_heading = bool(heading) and not done and not _same_text(
        heading, getattr(page, "title", ""))
    intro = (value.get("intro") or "").strip()
    page_intro = getattr(page, "intro", "") or getattr(page, "search_description", "")
    show_intro = bool(intro) and not done and number == 1 and not _same_text(intro, page_intro)
    level = 3 if show_heading else 2
    return {"show_heading": show_heading, "show_intro": show_intro,
            "level": level, "sublevel": level + 1}


def form_blocks(page):
    """The helpdesk form blocks of ``page``, in every StreamField."""
    from wagtail.fields import StreamField

    from ..blocks import HelpdeskFormBlock

    page = getattr(page, "specific", page)
    for field in page._meta.get_fields():
        if isinstance(field, StreamField):
            for child in getattr(page, field.name) or []:
                if isinstance(child.block, HelpdeskFormBlock):
                    yield child


def title_prefix(request, page):
    """What the page's ``<title>`` says before its own title about the latest
    journey on it: "Error - Step 2 of 3: Personal data - ", "Request sent - ".
    Empty on a page whose forms were never used in this session."""
    session = getattr(request, "session", None)
    if session is None or getattr(page, "pk", None) is None:
        return ""
    children = list(form_blocks(page))
    if not children:
        return ""
    stored = session.get(SESSION_KEY) or {}
    used = [child for child in children if f"{page.pk}:{child.id}" in stored]
    if not used:
        return ""
    child = max(used, key=lambda c: stored[f"{page.pk}:{c.id}"].get("at", 0))
    wizard = Wizard(session, page.pk, child.id)
    if wizard.done:
        sent = _("Report sent") if wizard.done.get("kind") == "report" else _("Request sent")
        return f"{sent} - "
    steps = child.block.flow_class.steps
    number = min(max(int(wizard.step), 1), len(steps))
    parts = [_("Step %(step)s of %(count)s: %(title)s") % {
        "step": number, "count": len(steps), "title": steps[number - 1].title}]
    if wizard.has_errors:
        parts.insert(0, _("Error"))
    return " - ".join(parts) + " - "


def block_context(block, value, context):
    """The ``helpdesk`` context of a form block: its current step, ready to render."""
    request = context.get("request")
    page = context.get("page")
    block_id = str(context.get("id") or "preview")
    dom_id = block_dom_id(block_id)
    session = getattr(request, "session", None) if request is not None else None
    page_id = getattr(page, "pk", None)
    wizard = Wizard(session if session is not None else _NoSession(), page_id, block_id)
    flow = block.flow_class(value, request, wizard, dom_id=dom_id)
    if request is not None:
        setattr(request, FORM_RENDERED, True)
    number, spec = flow.current()
    return {
        **_identity(flow, page_id, block_id, dom_id),
        **_step(flow, wizard, number, spec),
        **_person(flow, wizard, request, page, page_id, number),
        **privacy_notice(value, request, page),
        **_result(wizard, request),
        **_map(flow, value, page_id, block_id, spec),
        **_headings(value, page, number, wizard.done),
    }


def _identity(flow, page_id, block_id, dom_id):
    """Which form this is and where it posts to."""
    try:
        action = reverse("wagtail_helpdesk_submit", args=[page_id, block_id]) if page_id else ""
    except NoReverseMatch:
        action = ""
    return {"flow": flow, "kind": flow.kind, "dom_id": dom_id, "action": action,
            "is_preview": page_id is None}


def _step(flow, wizard, number, spec):
    """The current step: where it is among the steps, its forms (bound to the
    refused input, if any, to show its errors), files and summary."""
    raw = wizard.state.get("raw")
    if raw is not None:
        data = QueryDict(mutable=True)
        for key, item in raw.items():
            data[key] = item
        forms = flow.build_forms((number, spec), data, None)
        for form in forms.values():
            form.is_valid()
    else:
        forms = flow.build_forms((number, spec))
    summary = spec.slug == "summary"
    return {
        "step": number,
        "step_count": len(flow.steps),
        "steps": [{"number": i, "title": s.title, "current": i == number, "done": i < number}
                  for i, s in enumerate(flow.steps, start=1)],
        "spec": spec,
        "forms": forms,
        "main_form": forms.get(""),
        "person_form": forms.get("author"),
        "error_summary": _errors(forms, wizard.state.get("file_errors") or [],
                                 wizard.state.get("notices") or []),
        "files": wizard.files,
        "max_files": flow.max_files,
        "summary": flow.summary() if summary else [],
        "person_summary": flow.person() if summary else {},
    }


def _person(flow, wizard, request, page, page_id, number):
    """Who is filling the form: the login, the personal area, saved drafts
    (not in a preview)."""
    return {
        "verified": flow.verified,
        "needs_login": flow.needs_login,
        "login_url": _login_url(request, page) if flow.login_policy != "anonymous" else "",
        "personal_area_url": personal_area_url(),
        "can_save": flow.can_save and page_id is not None,
        "saved": wizard.state.get("saved", False),
        "drafts": flow.drafts() if number == 1 and page_id is not None else [],
        "draft_days": get_setting("DRAFT_EXPIRY_DAYS"),
    }


def _result(wizard, request):
    """The ticket sent, and its receipt for the session that sent it."""
    done = wizard.done
    receipt_url = ""
    if done and request is not None and done["ticket"] in (
            request.session.get(RECEIPTS_KEY) or []):
        receipt_url = reverse("wagtail_helpdesk_receipt", args=[done["ticket"]])
    return {"done": done, "receipt_url": receipt_url}


def _map(flow, value, page_id, block_id, spec):
    """The report's map (its settings are there on a request too) and the
    open reports near the chosen place."""
    is_report = flow.kind == "report"
    centre = value.get("map_centre")
    centre = centre if isinstance(centre, dict) else {}
    return {
        "map": {**map_settings(), "lat": centre.get("lat", ""), "lng": centre.get("lng", ""),
                "zoom": value.get("map_zoom") or 14,
                "bbox": flow.area.bbox if is_report else None,
                "nearby_radius": value.get("nearby_radius") or 0,
                **(_place_urls(value, page_id, block_id) if is_report else {})},
        "nearby": flow.nearby() if is_report and spec.slug == "summary" else [],
    }
