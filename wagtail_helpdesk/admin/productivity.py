"""La mia attività (placeholder wired by wagtail_hooks)."""


def urls():
    return []


def menu_items():
    return []
