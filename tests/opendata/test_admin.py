"""Only administrators switch the open data on (Settings → Open data);
operators and supervisors cannot open or change it. The demo switches it on."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from wagtail_helpdesk.demo import opendata as demo_opendata
from wagtail_helpdesk.models import OpenDataSettings

pytestmark = pytest.mark.django_db


def _url(site):
    return reverse("wagtailsettings:edit",
                   args=["wagtail_helpdesk", "opendatasettings", site.pk])


def _form(**values):
    data = {"enabled": "on", "licence": "CC-BY-4.0", "grid_metres": "200", "delay_days": "2",
            "title": "", "description": "", "publisher_name": "Comune di Prova",
            "publisher_ipa": "c_x998", "contact_email": ""}
    data.update(values)
    return data


def test_an_administrator_switches_it_on(client, factories):
    site = factories.default_site()
    client.force_login(factories.administrator())
    page = client.get(_url(site))
    assert page.status_code == 200 and 'name="grid_metres"' in page.content.decode()
    response = client.post(_url(site), _form())
    assert response.status_code == 302
    options = OpenDataSettings.for_site(site)
    assert (options.enabled, options.grid_metres, options.delay_days) == (True, 200, 2)
    assert client.get("/helpdesk/open-data/segnalazioni.csv").status_code == 200


def test_the_grid_has_limits(client, factories):
    site = factories.default_site()
    client.force_login(factories.administrator())
    response = client.post(_url(site), _form(grid_metres="10"))
    assert response.status_code == 200  # the form again, with the error
    assert OpenDataSettings.for_site(site).enabled is False


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_operators_and_supervisors_cannot_change_it(client, factories, role):
    site = factories.default_site()
    office = factories.office()
    client.force_login(getattr(factories, role)(office))
    assert client.get(_url(site)).status_code in (302, 403)
    client.post(_url(site), _form())
    assert OpenDataSettings.for_site(site).enabled is False
    assert client.get("/helpdesk/open-data/").status_code == 404


def test_the_demo_publishes_its_reports(client, factories):
    site = factories.default_site()
    office = factories.office()
    published = factories.report_category(office, name="Buche stradali")
    other = factories.report_category(office, name="Non della demo")
    world = SimpleNamespace(categories=[(published, ())])
    assert demo_opendata.build(world, None) == 1
    published.refresh_from_db()
    other.refresh_from_db()
    assert published.open_data and not other.open_data
    options = OpenDataSettings.for_site(site)
    assert options.enabled and options.publisher_name == "Comune di Esempio"
    assert options.publisher_ipa == demo_opendata.PUBLISHER_IPA
    page = client.get("/helpdesk/open-data/")
    assert page.status_code == 200 and "Comune di Esempio" in page.content.decode()
    # Built again: nothing more to switch on, and an administrator's texts are kept.
    options.publisher_name = "Comune di Altrove"
    options.save()
    assert demo_opendata.build(world, None) == 0
    assert OpenDataSettings.for_site(site).publisher_name == "Comune di Altrove"


def test_the_page_describes_the_dataset(client, territory):
    html = client.get("/helpdesk/open-data/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for column in ("categoria_codice", "data_risoluzione", "latitudine", "esito"):
        assert f"<code>{column}</code>" in html
    for link in ("segnalazioni.csv", "segnalazioni.geojson", "catalogo.rdf"):
        assert f"/helpdesk/open-data/{link}" in html
    assert 'href="https://creativecommons.org/licenses/by/4.0/" rel="license"' in html
    assert "100 metres" in html and "presa_in_carico" in html
    assert 'name="robots"' not in html  # meant to be found
