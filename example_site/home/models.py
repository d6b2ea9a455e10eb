"""Pages of the example municipal site."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_helpdesk.blocks import (
    AssistanceRequestBlock,
    ChatLauncherBlock,
    TerritorialReportBlock,
)


class ContentBlocks(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", label=_("Heading"))
    paragraph = blocks.RichTextBlock(label=_("Paragraph"))
    assistance_request = AssistanceRequestBlock()
    report = TerritorialReportBlock()
    chat = ChatLauncherBlock()


class HomePage(Page):
    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(ContentBlocks(), blank=True, use_json_field=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    max_count = 1


class StandardPage(Page):
    """A content page; the helpdesk form blocks are placed in its body."""

    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(ContentBlocks(), blank=True, use_json_field=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]


class ServiceIndexPage(Page):
    """"Servizi", the first-level page listing every service page (AgID: the
    header's ``all-services`` link leads here, each card is a ``service-link``)."""

    intro = models.TextField(_("introduction"), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["home.ServicePage"]
    max_count = 1

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["services"] = ServicePage.objects.child_of(self).live().order_by("title")
        return context


class ServicePage(Page):
    """A "scheda servizio": what the service is, and its contacts, which lead to
    the office and to the assistance request (AgID criterion C.SI.2.2)."""

    intro = models.TextField(_("short description"), blank=True)
    body = StreamField(ContentBlocks(), blank=True, use_json_field=True)
    office_name = models.CharField(_("office"), max_length=200, blank=True)
    office_email = models.EmailField(_("office e-mail"), blank=True)
    office_phone = models.CharField(_("office phone"), max_length=40, blank=True)
    assistance_page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("assistance request page"),
        help_text=_("The page holding the assistance request form."))

    content_panels = [
        *Page.content_panels, FieldPanel("intro"), FieldPanel("body"),
        MultiFieldPanel([FieldPanel("office_name"), FieldPanel("office_email"),
                         FieldPanel("office_phone"), FieldPanel("assistance_page")],
                        heading=_("Contacts")),
    ]
    parent_page_types = ["home.ServiceIndexPage"]


class LegalNotesPage(Page):
    """"Note legali", with the content licence section the AgID checker reads
    (C.SI.3.4: a heading ``legal-notes-section`` and ``legal-notes-body``
    paragraphs holding the prescribed text)."""

    intro = models.TextField(_("introduction"), blank=True)
    licence_heading = models.CharField(_("licence heading"), max_length=100,
                                       default="Licenza dei contenuti")
    licence_text = models.TextField(
        _("licence text"), blank=True,
        help_text=_("One paragraph per blank-line separated block, shown as plain text."))
    body = StreamField(ContentBlocks(), blank=True, use_json_field=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("licence_heading"),
                      FieldPanel("licence_text"), FieldPanel("body")]
    max_count = 1

    def licence_paragraphs(self):
        return [" ".join(block.split()) for block in self.licence_text.split("\n\n")
                if block.strip()]
