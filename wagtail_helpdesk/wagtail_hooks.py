"""Registration with Wagtail: admin viewsets and the Helpdesk menu. Thin."""

from wagtail import hooks

from .admin.viewsets import HelpdeskViewSetGroup, catalogue_viewsets


@hooks.register("register_admin_viewset")
def register_helpdesk_viewsets():
    return [HelpdeskViewSetGroup(), *catalogue_viewsets]
