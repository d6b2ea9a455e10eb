"""Pages of the example municipal site."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_helpdesk.blocks import AssistanceRequestBlock, TerritorialReportBlock


class ContentBlocks(blocks.StreamBlock):
    heading = blocks.CharBlock(form_classname="title", label=_("Heading"))
    paragraph = blocks.RichTextBlock(label=_("Paragraph"))
    assistance_request = AssistanceRequestBlock()
    report = TerritorialReportBlock()


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
