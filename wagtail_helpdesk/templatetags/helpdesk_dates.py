"""Dates for citizens (pages and e-mails): ``{{ when|helpdesk_date }}``,
``{{ when|helpdesk_datetime }}``; see :mod:`wagtail_helpdesk.formats`."""

from django import template

from ..formats import DATE, format_date, format_datetime

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def helpdesk_date(value, fmt=DATE):
    return format_date(value, fmt)


@register.filter(expects_localtime=True, is_safe=False)
def helpdesk_datetime(value):
    return format_datetime(value)
