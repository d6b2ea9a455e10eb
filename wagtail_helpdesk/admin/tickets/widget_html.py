"""The ticket list's filter menus, rendered in Python: the same HTML as
Django's widget templates, ten times cheaper.

The filter drawer of every list page renders a dozen choice widgets (queues,
statuses, channels, offices, services, assignees, labels…): a hundred
options, each three template includes (``select_option.html`` →
``attrs.html``, or ``checkbox_option.html`` → ``input_option.html`` →
``input.html`` → ``attrs.html``) — 8 ms of a page. :class:`WidgetRenderer`
writes the same markup (byte for byte, tested against the templates) for
Django's ``select.html``, ``checkbox_select.html`` and ``radio.html`` with
their standard options, and hands every other template (and any widget
whose options use another template) to the default renderer.
"""

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, mark_safe

_WIDGETS = "django/forms/widgets/"
SELECT = f"{_WIDGETS}select.html"
SELECT_OPTION = f"{_WIDGETS}select_option.html"
CHECKBOX_SELECT = f"{_WIDGETS}checkbox_select.html"
RADIO = f"{_WIDGETS}radio.html"
INPUT_OPTIONS = (f"{_WIDGETS}checkbox_option.html", f"{_WIDGETS}radio_option.html")

#: An autoescaping context, as templates render variables with (read only).
_CONTEXT = Context(autoescape=True)


def variable(value):
    """``{{ value }}``."""
    if type(value) is str:  # most values: what the template does to a plain string
        return escape(value)
    return render_value_in_context(value, _CONTEXT)


def _string(value):
    """``{{ value|stringformat:'s' }}`` (the filter keeps a safe value safe)."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def attributes(attrs):
    """``{% include "django/forms/widgets/attrs.html" %}`` (Wagtail's ``attrs.html`` too)."""
    return "".join(
        f" {conditional_escape(name)}" if value is True
        else f' {conditional_escape(name)}="{_string(value)}"'
        for name, value in attrs.items() if value is not False)


def _select_option(option):
    return (f'<option value="{_string(option["value"])}"{attributes(option["attrs"])}>'
            f'{variable(option["label"])}</option>\n')


def _input(widget):
    """``input.html``."""
    value = widget["value"]
    shown = f' value="{_string(value)}"' if value is not None else ""
    return (f'<input type="{variable(widget["type"])}" name="{variable(widget["name"])}"{shown}'
            f'{attributes(widget["attrs"])}>\n')


def _input_option(option):
    """``checkbox_option.html`` / ``radio_option.html`` (``input_option.html``)."""
    html = _input(option)
    if option.get("wrap_label"):
        target = option["attrs"].get("id")
        label_for = f' for="{variable(target)}"' if target else ""
        html = f"<label{label_for}>{html} {variable(option['label'])}</label>"
    return f"{html}\n\n"


def _options(widget, templates):
    """Every option of ``widget``, or None if one uses another template."""
    options = [option for _, group, _ in widget["optgroups"] for option in group]
    return None if any(o["template_name"] not in templates for o in options) else options


def _select(widget):
    """``select.html``."""
    if _options(widget, (SELECT_OPTION,)) is None:
        return None
    parts = [f'<select name="{variable(widget["name"])}"{attributes(widget["attrs"])}>']
    for group_name, group, _ in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{variable(group_name)}">')
        parts.extend(f"\n  {_select_option(option)}" for option in group)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _multiple_input(widget):
    """``checkbox_select.html`` / ``radio.html`` (``multiple_input.html``)."""
    if _options(widget, INPUT_OPTIONS) is None:
        return None
    attrs = widget["attrs"]
    found = attrs.get("id")
    parts = ["<div", f' id="{variable(found)}"' if found else "",
             f' class="{variable(attrs["class"])}"' if attrs.get("class") else "", ">"]
    for group_name, group, _ in widget["optgroups"]:
        if group_name:
            parts.append(f"\n  <div><label>{variable(group_name)}</label>")
        parts.extend(f"<div>\n    {_input_option(option)}</div>" for option in group)
        if group_name:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


_RENDERERS = {SELECT: _select, CHECKBOX_SELECT: _multiple_input, RADIO: _multiple_input}


class WidgetRenderer(BaseRenderer):
    """A form renderer writing the standard choice widgets in Python; every
    other template goes to the project's default renderer (``FORM_RENDERER``)."""

    @property
    def default(self):
        return get_default_renderer()

    @property
    def form_template_name(self):
        return self.default.form_template_name

    @property
    def formset_template_name(self):
        return self.default.formset_template_name

    @property
    def field_template_name(self):
        return self.default.field_template_name

    def get_template(self, template_name):
        return self.default.get_template(template_name)

    def render(self, template_name, context, request=None):
        write = _RENDERERS.get(template_name)
        html = write(context["widget"]) if write else None
        if html is None:
            return self.default.render(template_name, context, request)
        return mark_safe(html)  # noqa: S308 — every value above is escaped as templates do


RENDERER = WidgetRenderer()
