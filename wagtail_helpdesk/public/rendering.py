"""What a form block needs to render its current step. Reads the session and
the catalogue; writes nothing (the page stays free of side effects, except
marking the response as not cacheable, see :mod:`wagtail_helpdesk.middleware`)."""

from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from .. import geocoding
from ..conf import get_setting
from ..maps import map_settings
from .flows import RECEIPTS_KEY
from .links import personal_area_url
from .wizard import Wizard

#: Set on the request when a page holds a helpdesk form (read by the middleware).
FORM_RENDERED = "_wagtail_helpdesk_form"


class _NoSession(dict):
    """Block previews and bare requests have no session: an empty one."""

    modified = False


def _privacy_url(value, request):
    page = value.get("privacy_page")
    if page is None:
        from ..services.core import helpdesk_settings

        page = helpdesk_settings(getattr(request, "site", None) if request else None).privacy_page
    try:
        return page.specific.url if page is not None and page.live else ""
    except AttributeError:
        return ""


def _login_url(request, page):
    from django.conf import settings

    url = getattr(settings, "WAGTAIL_HELPDESK_CITIZEN_LOGIN_URL", None) or settings.LOGIN_URL
    try:
        url = reverse(url)
    except NoReverseMatch:
        pass
    target = page.url if page is not None else (request.path if request else "/")
    return f"{url}?next={target}"


def _errors(forms, file_errors, notices):
    """The error summary: (field id, label, message) for every error, in order."""
    summary = [("", "", message) for message in notices]
    for form in forms.values():
        for error in form.non_field_errors():
            summary.append(("", "", error))
        for field in form:
            for error in field.errors:
                summary.append((field.id_for_label, field.label, error))
    attachments_id = next((form["attachments"].id_for_label for form in forms.values()
                           if "attachments" in form.fields), "")
    for message in file_errors:
        summary.append((attachments_id, _("Attachments"), message))
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


def block_context(block, value, context):
    request = context.get("request")
    page = context.get("page")
    block_id = str(context.get("id") or "preview")
    dom_id = f"helpdesk-{block_id[:8]}"
    session = getattr(request, "session", None) if request is not None else None
    page_id = getattr(page, "pk", None)
    wizard = Wizard(session if session is not None else _NoSession(), page_id, block_id)
    flow = block.flow_class(value, request, wizard, dom_id=dom_id)
    if request is not None:
        setattr(request, FORM_RENDERED, True)
    number, spec = flow.current()
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
    try:
        action = reverse("wagtail_helpdesk_submit", args=[page_id, block_id]) if page_id else ""
    except NoReverseMatch:
        action = ""
    done = wizard.done
    receipt_url = ""
    if done and request is not None and done["ticket"] in (
            request.session.get(RECEIPTS_KEY) or []):
        receipt_url = reverse("wagtail_helpdesk_receipt", args=[done["ticket"]])
    centre = value.get("map_centre")
    centre = centre if isinstance(centre, dict) else {}
    is_report = flow.kind == "report"
    return {
        "flow": flow,
        "kind": flow.kind,
        "dom_id": dom_id,
        "action": action,
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
        "summary": flow.summary() if spec.slug == "summary" else [],
        "person_summary": flow.person() if spec.slug == "summary" else {},
        "verified": flow.verified,
        "can_save": flow.can_save and page_id is not None,
        "saved": wizard.state.get("saved", False),
        "drafts": flow.drafts() if number == 1 and page_id is not None else [],
        "draft_days": get_setting("DRAFT_EXPIRY_DAYS"),
        "needs_login": flow.needs_login,
        "login_url": _login_url(request, page) if flow.login_policy != "anonymous" else "",
        "privacy_url": _privacy_url(value, request),
        "done": done,
        "receipt_url": receipt_url,
        "map": {**map_settings(), "lat": centre.get("lat", ""), "lng": centre.get("lng", ""),
                "zoom": value.get("map_zoom") or 14,
                "bbox": flow.area.bbox if is_report else None,
                "nearby_radius": value.get("nearby_radius") or 0,
                **(_place_urls(value, page_id, block_id) if is_report else {})},
        "nearby": flow.nearby() if is_report and spec.slug == "summary" else [],
        "is_preview": page_id is None,
        "personal_area_url": personal_area_url(),
    }
