"""Kept so that sites including ``wagtail_helpdesk.urls`` keep working; the
citizens' URLs live in :mod:`wagtail_helpdesk.citizen.urls`."""

from .citizen.urls import urlpatterns

__all__ = ["urlpatterns"]
