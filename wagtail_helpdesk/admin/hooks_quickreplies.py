"""Wagtail hook registrations for the quickreplies screens (imported by wagtail_hooks)."""
