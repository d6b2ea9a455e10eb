"""The demo publishes its reports as open data: Settings → Open data of the
default site switched on, with the demo municipality as publisher (a made-up
IPA code: the real one is on indicepa.gov.it) and the default licence and grid.
The files are at /helpdesk/open-data/ once the demo is built."""

from wagtail.models import Site

from ..models import OpenDataSettings, ReportCategory

PUBLISHER_NAME = "Comune di Esempio"
#: Not a real IPA code ("c_" + a cadastral code no municipality has).
PUBLISHER_IPA = "c_x999"
CONTACT_EMAIL = "opendata@comune.example.it"
DESCRIPTION = (
    "Le segnalazioni di disservizi sul territorio del Comune di Esempio (buche, "
    "illuminazione, rifiuti, verde...) con il loro stato e le date: un esempio di dati "
    "aperti prodotti dal servizio di assistenza."
)


def build(world, now):
    """Switch the default site's open data on and publish the demo's report
    categories (all about streets, lights, waste and greenery: categories are
    left out unless opted in); 1 when it was off (0 when an administrator had
    already switched it on: their texts are kept)."""
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        return 0
    ReportCategory.objects.filter(
        pk__in=[category.pk for category, _texts in world.categories]).update(open_data=True)
    options = OpenDataSettings.for_site(site)
    if options.enabled:
        return 0
    options.enabled = True
    options.publisher_name = options.publisher_name or PUBLISHER_NAME
    options.publisher_ipa = options.publisher_ipa or PUBLISHER_IPA
    options.contact_email = options.contact_email or CONTACT_EMAIL
    options.description = options.description or DESCRIPTION
    options.save()
    return 1
