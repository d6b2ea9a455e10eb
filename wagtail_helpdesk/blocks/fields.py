"""Block fields for choosing catalogue entries (stored as a list of ids)."""

from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtailgeowidget.blocks import LeafletBlock

from ..geowidget import HelpdeskLeafletField


class CatalogueChoiceBlock(blocks.FieldBlock):
    """Tick some active rows of a catalogue model (none ticked: all of them).

    Stores a list of primary keys, so the block keeps working when rows are
    renamed; rows deleted or deactivated later are simply no longer offered.
    """

    def __init__(self, model, required=False, help_text=None, **kwargs):
        self.model_label = model  # "app_label.ModelName": resolved lazily
        self._required = required
        self._help_text = help_text
        super().__init__(**kwargs)

    @cached_property
    def field(self):
        return forms.TypedMultipleChoiceField(
            choices=self._choices, coerce=int, required=self._required,
            help_text=self._help_text, widget=forms.CheckboxSelectMultiple,
        )

    def _choices(self):
        model = apps.get_model(self.model_label)
        return [(obj.pk, str(obj)) for obj in model.objects.filter(active=True)]

    def get_prep_value(self, value):
        return [int(v) for v in (value or [])]

    def to_python(self, value):
        return [int(v) for v in (value or []) if str(v).isdigit()]

    def value_for_form(self, value):
        return [str(v) for v in (value or [])]

    def value_from_form(self, value):
        return [int(v) for v in (value or [])]

    def get_default(self):
        return []

    class Meta:
        icon = "list-ul"


class MapPointBlock(LeafletBlock):
    """wagtailgeowidget's map point, optional when asked (its own block
    ignores ``required``), and always a ``{"lat", "lng", "srid"}`` dict or None
    (its cleaned value is otherwise the EWKT text the widget posts)."""

    def __init__(self, *args, required=True, help_text=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.field_options = {"required": required, "help_text": help_text or ""}

    @cached_property
    def field(self):
        """The app's map widget: vendored Leaflet, the app's tiles (see ..geowidget)."""
        return forms.CharField(widget=HelpdeskLeafletField(
            srid=4326, id_prefix="", address_field=self.address_field,
            zoom_field=self.zoom_field, hide_latlng=self.hide_latlng), **self.field_options)

    @property
    def required(self):
        return self.field_options["required"]

    def to_python(self, value):
        if not value:
            return None
        try:
            return super().to_python(value)
        except (TypeError, ValueError, KeyError, AttributeError):
            return None

    def clean(self, value):
        cleaned = super().clean(value)
        point = self.to_python(cleaned)
        if cleaned and point is None:
            raise ValidationError(_("Choose a point on the map."))
        return point

    def get_prep_value(self, value):
        return value or None
