"""The notifications the app sends, by template name, with what an operator
reads about them (timeline, the failed-notifications list)."""

from django.utils.translation import gettext_lazy as _

TEMPLATES = {
    "citizen/ticket_received": _("Receipt to the citizen"),
    "citizen/taken_in_charge": _("“Taken in charge” to the citizen"),
    "citizen/reply": _("Reply to the citizen"),
    "citizen/waiting": _("Request for information to the citizen"),
    "citizen/resolved": _("“Resolved” to the citizen"),
    "citizen/reopened": _("“Reactivated” to the citizen"),
    "citizen/chat_transcript": _("Chat transcript to the citizen"),
    "operator/assigned": _("“Assigned to you” to the operator"),
    "operator/citizen_message": _("Citizen's message to the operator"),
    "operator/mentioned": _("Mention to the colleague"),
    "operator/consult": _("Consult request to the colleague"),
    "operator/sla_warning": _("Deadline reminder to the operator"),
    "operator/new_ticket": _("New ticket to an operator of the office"),
    "operator/daily_digest": _("Daily summary of new tickets to the operator"),
    "operator/monthly_overview": _("Monthly overview to the supervisor"),
    "office/new_ticket": _("New ticket to the office"),
    "office/transferred_in": _("Transfer notice to the office"),
    "office/citizen_message": _("Citizen's message to the office"),
}


def describe(template):
    return TEMPLATES.get(template, template)
