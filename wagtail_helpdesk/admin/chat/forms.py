"""The forms of the chat workspace's actions (wrap-up, transfer, private
note, consult). They only parse what the operator typed; the views hand the
cleaned data to :mod:`wagtail_helpdesk.services.conversations`.

Several conversations share the page, so every form's ids carry the
conversation (``id_c<pk>_<action>_<field>``), and the choices are loaded
once for the whole page and handed to each form (``objects=``).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..tickets.forms import ObjectChoiceField


class ChatActionForm(forms.Form):
    action = ""

    def __init__(self, *args, conversation, **kwargs):
        kwargs.setdefault("auto_id", f"id_c{conversation.pk}_{self.action}_%s")
        super().__init__(*args, **kwargs)
        self.conversation = conversation

    def add_service_errors(self, error):
        """A ``HelpdeskError``'s field errors next to their fields."""
        for name, message in error.field_errors.items():
            self.add_error(name if name in self.fields else None, message)

    @property
    def typed_text(self):
        """What was typed in the form's text areas (bound forms only)."""
        if not self.is_bound:
            return ""
        return "\n".join((self.data.get(name) or "").strip() for name, field in
                         self.fields.items() if isinstance(field.widget, forms.Textarea))


class WrapUpForm(ChatActionForm):
    """Fine → wrap-up: the resolution of the chat's ticket, as on the ticket page."""

    action = "wrapup"

    resolution_type = ObjectChoiceField(label=_("Resolution type"))
    resolution_text = forms.CharField(
        label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The citizen sees it: explain how the request was resolved."),
    )

    def __init__(self, *args, resolution_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resolution_type"].set_objects(resolution_types)


class ChatTransferForm(ChatActionForm):
    """To a colleague of the queue (who holds it at once) or to another
    office's queue: one of the two."""

    action = "transfer"

    operator = ObjectChoiceField(
        label=_("Transfer to a colleague"), required=False,
        help_text=_("They continue the conversation at once."))
    office = ObjectChoiceField(
        label=_("…or to the queue of the office"), required=False,
        help_text=_("The conversation waits there for one of its operators."))
    note = forms.CharField(
        label=_("Note for the colleague or the new office"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Operators only: the citizen does not see it."),
    )

    def __init__(self, *args, offices=(), colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        office_id = self.conversation.office_id
        self.fields["office"].set_objects([o for o in offices if o.pk != office_id])
        self.fields["operator"].set_objects([user for user, _label in colleagues],
                                            dict(colleagues).get)

    def clean(self):
        data = super().clean()
        if bool(data.get("operator")) == bool(data.get("office")):
            raise forms.ValidationError(_("Choose a colleague or an office, one of the two."))
        return data

    @property
    def is_usable(self):
        return len(self.fields["office"].choices) > 1 or len(self.fields["operator"].choices) > 1


class ChatNoteForm(ChatActionForm):
    action = "note"

    body = forms.CharField(
        label=_("Private note on the ticket"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Operators only: saved on the ticket's timeline, the citizen does not "
                    "see it."),
    )


class InviteForm(ChatActionForm):
    """Consulta un collega: one of the conversation's consult candidates."""

    action = "invite"

    colleague = forms.IntegerField(label=_("Colleague"), widget=forms.HiddenInput)
    message = forms.CharField(
        label=_("What you would like to ask"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Operators only: the citizen does not see it."),
    )

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = candidates  # a callable: pk → user or None (checked when cleaning)

    def clean_colleague(self):
        pk = self.cleaned_data["colleague"]
        user = self.candidates(pk) if self.candidates else None
        if user is None:
            raise forms.ValidationError(_("Choose a colleague from the list."))
        return user
