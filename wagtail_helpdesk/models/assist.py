"""The operators' AI assist: stored text embeddings and the administrator's
switches.

Everything runs on the municipality's own server. The only thing that may
ever leave it is a request to the optional generative endpoint, and only when
an administrator configures it here (off by default).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

from .tickets import Ticket


class TicketEmbedding(models.Model):
    """The embedding of a ticket's text, computed by a background job.

    ``vector`` holds the unit vector as little-endian float16 (384 dimensions:
    768 bytes), ``query_vector`` the same text as a query; ``digest`` is the SHA-256 of the model name and the text it
    was computed from, so a job recomputes it only when that text changed.
    Deleted with the ticket, and by the erasure of its citizen.
    """

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, primary_key=True,
                                  related_name="embedding")
    model = models.CharField(max_length=60)
    digest = models.CharField(max_length=64)
    vector = models.BinaryField()
    #: The same text embedded as the model's *query* (what the ticket page
    #: compares with the other tickets' passages): computed with the passage
    #: by the background job, so that showing similar tickets runs no model.
    query_vector = models.BinaryField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("ticket embedding")
        verbose_name_plural = _("ticket embeddings")


@register_setting(icon="cogs")
class AssistSettings(BaseSiteSetting):
    """What the AI assist does, switched by an administrator."""

    similar_enabled = models.BooleanField(
        _("similar tickets and duplicates"), default=True,
        help_text=_("Show similar tickets and possible duplicates on the ticket page, and the "
                    "grouped reports."),
    )
    summary_enabled = models.BooleanField(
        _("summaries"), default=True,
        help_text=_("Show a summary at the top of long tickets and chats."),
    )
    suggestions_enabled = models.BooleanField(
        _("suggested replies"), default=True,
        help_text=_("Suggest replies drawn from quick replies and similar resolved tickets."),
    )
    readability_enabled = models.BooleanField(
        _("readability of replies"), default=True,
        help_text=_("Show the Gulpease readability index of the reply being written."),
    )
    generative_enabled = models.BooleanField(
        _("rewrite with a language model"), default=False,
        help_text=_("Send summaries and suggestions, with personal data masked, to the "
                    "language model below to be rewritten in fluent Italian. Use only a "
                    "server run by the municipality."),
    )
    generative_url = models.URLField(
        _("endpoint address"), blank=True,
        help_text=_("The base address of an OpenAI-compatible server (llama.cpp, Ollama, "
                    "vLLM), e.g. “http://127.0.0.1:8080/v1”."),
    )
    generative_model = models.CharField(_("model name"), max_length=120, blank=True)
    generative_api_key = models.CharField(
        _("API key"), max_length=200, blank=True,
        help_text=_("Only if the server asks for one."),
    )
    generative_timeout = models.PositiveSmallIntegerField(
        _("time limit (seconds)"), default=20,
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("similar_enabled"), FieldPanel("summary_enabled"),
             FieldPanel("suggestions_enabled"), FieldPanel("readability_enabled")],
            heading=_("Features"),
        ),
        MultiFieldPanel(
            [FieldPanel("generative_enabled"), FieldPanel("generative_url"),
             FieldPanel("generative_model"), FieldPanel("generative_api_key"),
             FieldPanel("generative_timeout")],
            heading=_("Language model on the municipality's server (optional)"),
        ),
    ]

    class Meta:
        verbose_name = _("AI assist")

    def clean(self):
        from django.core.exceptions import ValidationError

        super().clean()
        if self.generative_enabled and not (self.generative_url and self.generative_model):
            raise ValidationError(
                {"generative_url": _("Give the address and the model name, or switch the "
                                     "language model off.")})
