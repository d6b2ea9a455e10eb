"""Overviews in the admin (placeholder wired by wagtail_hooks)."""


def viewsets():
    return []


def urls():
    return []


def menu_items():
    return []
