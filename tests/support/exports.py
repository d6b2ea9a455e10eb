"""Helpers of the export tests."""

from django.utils import translation

from wagtail_helpdesk.services.notify import operator_language


def said(export, message):
    """``message`` (a function of ``exports.tasks``) as the export's requester
    reads it: failures are recorded in their language."""
    with translation.override(export.language or operator_language(export.requested_by)):
        return str(message())
