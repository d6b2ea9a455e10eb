"""Wagtail hook registrations for the dashboard screens (imported by wagtail_hooks)."""
