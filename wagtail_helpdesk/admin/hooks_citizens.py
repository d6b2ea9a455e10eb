"""Wagtail hook registrations for the citizens screens (imported by wagtail_hooks)."""
