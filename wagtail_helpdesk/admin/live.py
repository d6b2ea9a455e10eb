"""The live ticket list (placeholder wired by wagtail_hooks)."""


def urls():
    return []


def global_js():
    return ""
