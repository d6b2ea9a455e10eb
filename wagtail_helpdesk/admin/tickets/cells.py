"""The ticket list's table and cells, written in Python: the markup of
Wagtail's templates (the same elements, attributes and text; tested against
them), without a template render per cell.

A page of the list is 20–50 rows of nine cells: rendering each through its
template (``cell.html``, ``title_cell.html`` with its ``attrs.html``,
``status_tag_cell.html`` → ``status_tag.html``, ``date_cell.html`` →
``human_readable_date.html``, ``listing_checkbox_cell.html``) was the
largest part of the page after the SQL. The values still come from
Wagtail's columns (``get_cell_context_data``: accessors, the empty value,
the link, the ids); only the writing differs. A column given another cell
template (a subclass, a host's override through ``cell_template_name``)
renders it as usual; so does a table given another template. The column
headers keep their template (a few per page).
"""

import datetime

from django.contrib.admin.utils import quote
from django.template.defaultfilters import capfirst, date
from django.utils.formats import get_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext
from wagtail.admin.templatetags.wagtailadmin_tags import timesince_simple
from wagtail.admin.ui import tables

from .widget_html import attributes, variable


def _td(column, inner):
    classname = column.classname
    opening = format_html('<td class="{}">', classname) if classname else "<td>"
    return mark_safe(f"{opening}{inner}</td>")  # noqa: S308 — the inner HTML is escaped


class _PythonCell:
    """Renders the cell with :meth:`write` while ``cell_template_name`` is the
    class's own, else — or when :meth:`write` returns None — with the template."""

    python_template_name = None

    def render_cell_html(self, instance, parent_context):
        context = self.get_cell_context_data(instance, parent_context)
        html = self.write(context) if self.cell_template_name == self.python_template_name \
            else None
        return self.cell_template.render(context) if html is None else html


class TextColumn(_PythonCell, tables.Column):
    """``wagtailadmin/tables/cell.html``."""

    python_template_name = tables.Column.cell_template_name

    def write(self, context):
        value = context["value"]
        return _td(self, "" if value is None else variable(value))


class TitleColumn(_PythonCell, tables.TitleColumn):
    """``wagtailadmin/tables/title_cell.html`` (a link or the bare title; a
    ``<label>`` title or buttons go through the template)."""

    python_template_name = tables.TitleColumn.cell_template_name

    def write(self, context):
        if not context["link_url"] and context["label_id"] or context.get("buttons"):
            return None
        value = variable(context["value"])
        title_id = context["title_id"]
        title = format_html('<span id="{}">{}</span>', title_id, value) if title_id else value
        if context["link_url"]:
            title = f"<a{attributes(context['link_attrs'])}>{title}</a>"
        classname = f"{conditional_escape(self.classname)} " if self.classname else ""
        return mark_safe(  # noqa: S308 — every value is escaped above
            f'<td class="{classname}title"><div class="title-wrapper">{title}</div></td>')


class StatusTagColumn(_PythonCell, tables.StatusTagColumn):
    """``wagtailadmin/tables/status_tag_cell.html`` (``{% status %}``, a span)."""

    python_template_name = tables.StatusTagColumn.cell_template_name

    def write(self, context):
        value = context["value"]
        classname = "w-status w-status--primary" if context["primary"] else "w-status"
        return _td(self, f'<span class="{classname}">{variable(value) if value else ""}</span>')


class DateColumn(_PythonCell, tables.DateColumn):
    """``wagtailadmin/tables/date_cell.html`` (``{% human_readable_date %}``:
    the time since, with the date as a tooltip)."""

    python_template_name = tables.DateColumn.cell_template_name

    def write(self, context):
        value = context["value"]
        if not value:
            return _td(self, "")
        if isinstance(value, datetime.datetime):
            tooltip_format = get_format("DATETIME_FORMAT") or "N j, Y, P"
        elif isinstance(value, datetime.date):
            tooltip_format = get_format("DATE_FORMAT") or "N j, Y"
        else:  # not a date: as the template does
            return None
        local = template_localtime(value)
        return _td(self, format_html(
            '<button type="button" class="w-human-readable-date" data-controller="w-tooltip"'
            ' data-w-tooltip-content-value="{}" data-w-tooltip-placement-value="top">'
            '<time class="w-human-readable-date__date" datetime="{}">{}</time></button>',
            date(local, tooltip_format), local.isoformat(),  # isoformat: the "c" format
            capfirst(timesince_simple(value))))


class BulkActionsCheckboxColumn(_PythonCell, tables.BulkActionsCheckboxColumn):
    """``wagtailadmin/bulk_actions/listing_checkbox_cell.html`` (not for pages)."""

    python_template_name = tables.BulkActionsCheckboxColumn.cell_template_name

    def write(self, context):
        if self.obj_type == "page":  # pages say whether they are live: the template
            return None
        return format_html(
            '<td class="bulk-action-checkbox-cell"><input type="checkbox" data-object-id="{}"'
            ' data-bulk-action-checkbox class="bulk-action-checkbox" aria-label="{}"'
            ' aria-describedby="{}"/></td>',
            quote(str(context["instance"].pk)), gettext("Select"), context["aria_describedby"])


class Table(tables.Table):
    """``wagtailadmin/tables/table.html``: the rows and their cells without
    a template loop and a ``{% component %}`` per cell."""

    python_template_name = tables.Table.template_name

    def render_html(self, parent_context=None):
        if self.template_name != self.python_template_name:
            return super().render_html(parent_context)
        context = self.get_context_data(parent_context)
        parts = [f"<table{attributes(self.attrs)}>"]
        if caption := self.get_caption():
            parts.append(format_html('<caption class="w-sr-only">{}</caption>', caption))
        if self.has_column_widths():
            parts.extend(format_html('<col width="{}" />', column.width) if column.width
                         else "<col />" for column in self.columns.values())
        header_class = (format_html(' class="{}"', self.header_row_classname)
                        if self.header_row_classname else "")
        parts.append(f"<thead><tr{header_class}>")
        parts.extend(conditional_escape(column.header.render_html(context))
                     for column in self.columns.values())
        parts.append("</tr></thead><tbody>")
        for row in self.rows:
            parts.append(f"<tr{attributes(row.attrs)}>")
            cell_context = {**context, "row": row}
            parts.extend(conditional_escape(row[name].render_html(cell_context))
                         for name in self.columns)
            parts.append("</tr>")
        parts.append("</tbody></table>")
        return mark_safe("".join(parts))  # noqa: S308 — every part is escaped HTML
