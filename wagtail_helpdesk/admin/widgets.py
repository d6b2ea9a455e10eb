"""Form widgets shared by the helpdesk's admin forms."""

from django import forms
from django.utils.html import format_html, format_html_join


class DatalistInput(forms.TextInput):
    """A text input suggesting values (a ``<datalist>``) without restricting
    them: the label typed on a ticket, a quick reply's category."""

    def __init__(self, attrs=None, options=()):
        super().__init__(attrs)
        self.options = list(options)

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or 'id_' + name}_options"
        attrs["list"] = list_id
        html = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}"></option>',
                                   ((option,) for option in self.options))
        return html + format_html('<datalist id="{}">{}</datalist>', list_id, options)
