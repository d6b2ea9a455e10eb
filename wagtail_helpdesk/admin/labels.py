"""Labels in the admin (placeholder wired by wagtail_hooks; filled by the labels work)."""


def viewsets():
    return []


def urls():
    return []
