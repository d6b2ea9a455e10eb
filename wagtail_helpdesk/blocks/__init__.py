"""StreamField blocks for the citizen forms (assistance request, territorial report).

The blocks themselves arrive with the citizen-forms work; this package is where
host projects import them from (``from wagtail_helpdesk.blocks import …``).
"""
