"""The operator's own choices about help desk e-mails, as a panel of their
Wagtail account ("Notifications" tab), next to Wagtail's own."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.account import BaseSettingsPanel, notifications_tab

from ..models import NewTicketMail, OperatorPreferences
from ..permissions import office_ids_for


class OperatorPreferencesForm(forms.ModelForm):
    class Meta:
        model = OperatorPreferences
        fields = ["new_tickets"]
        widgets = {"new_tickets": forms.RadioSelect}

    def save(self, commit=True):
        if "new_tickets" in self.changed_data and self.instance.new_tickets == NewTicketMail.DAILY:
            # Summaries start from now: nothing already mailed one by one is listed again.
            from ..notifications.jobs import digest_time

            self.instance.digest_until = digest_time(timezone.now())
        return super().save(commit=commit)


class HelpdeskNotificationsPanel(BaseSettingsPanel):
    name = "helpdesk"
    title = _("Helpdesk e-mails")
    tab = notifications_tab
    order = 300
    form_class = OperatorPreferencesForm

    def is_active(self):
        return bool(office_ids_for(self.user))  # only operators of an office get such e-mails

    def get_form(self):
        instance = (OperatorPreferences.objects.filter(user=self.user).first()
                    or OperatorPreferences(user=self.user))
        data = self.request.POST if self.request.method == "POST" else None
        return self.form_class(data, instance=instance, prefix=self.name)
