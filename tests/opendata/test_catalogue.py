"""The DCAT-AP_IT description (RDF/XML and JSON-LD) for the municipality's
open-data catalogue and dati.gov.it."""

import json
import xml.etree.ElementTree as ET

import pytest

from wagtail_helpdesk.opendata.catalogue import NAMESPACES

pytestmark = pytest.mark.django_db

RDF_URL = "/helpdesk/open-data/catalogo.rdf"
JSONLD_URL = "/helpdesk/open-data/catalogo.jsonld"
EU = "http://publications.europa.eu/resource/authority/"


def q(name):
    prefix, local = name.split(":")
    return f"{{{NAMESPACES[prefix]}}}{local}"


ABOUT, RESOURCE = q("rdf:about"), q("rdf:resource")


def _parse(client):
    response = client.get(RDF_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rdf+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own output, in a test)
    assert root.tag == q("rdf:RDF")
    return {element.get(ABOUT): element for element in root}, root


def _one(root, kind):
    [element] = root.findall(q(kind))
    return element


def _ref(element, prop):
    return [child.get(RESOURCE) for child in element.findall(q(prop))]


def _text(element, prop):
    return [child.text for child in element.findall(q(prop))]


def test_the_dataset_has_every_mandatory_property(client, territory):
    territory.report()
    nodes, root = _parse(client)
    dataset = _one(root, "dcatapit:Dataset")
    assert _text(dataset, "dct:identifier") == ["c_x998:segnalazioni"]
    assert _text(dataset, "dct:title") == ["Segnalazioni dei cittadini"]
    assert dataset.find(q("dct:title")).get("{http://www.w3.org/XML/1998/namespace}lang") == "it"
    assert _text(dataset, "dct:description")[0]
    assert EU + "data-theme/GOVE" in _ref(dataset, "dcat:theme")
    assert _ref(dataset, "dct:accrualPeriodicity") == [EU + "frequency/DAILY"]
    assert _ref(dataset, "dct:language") == [EU + "language/ITA"]
    [modified] = dataset.findall(q("dct:modified"))
    assert modified.get(q("rdf:datatype")) == NAMESPACES["xsd"] + "date"
    assert len(modified.text) == 10
    assert q("rdf:type") in {child.tag for child in dataset}
    # Publisher and rights holder: the municipality, with its IPA code.
    [publisher] = _ref(dataset, "dct:publisher")
    assert _ref(dataset, "dct:rightsHolder") == [publisher]
    agent = nodes[publisher]
    assert agent.tag == q("dcatapit:Agent")
    assert _text(agent, "dct:identifier") == ["c_x998"]
    assert _text(agent, "foaf:name") == ["Comune di Prova"]
    # Contact point: an organisation with an e-mail.
    [contact] = _ref(dataset, "dcat:contactPoint")
    assert nodes[contact].tag == q("dcatapit:Organization")
    assert _ref(nodes[contact], "vcard:hasEmail") == ["mailto:opendata@comune.example.it"]
    assert _text(nodes[contact], "vcard:fn") == ["Comune di Prova"]


def test_two_distributions_with_format_access_url_and_licence(client, territory):
    nodes, root = _parse(client)
    dataset = _one(root, "dcatapit:Dataset")
    distributions = [nodes[uri] for uri in _ref(dataset, "dcat:distribution")]
    assert [d.tag for d in distributions] == [q("dcatapit:Distribution")] * 2
    formats = {_ref(d, "dct:format")[0]: _ref(d, "dcat:accessURL")[0] for d in distributions}
    assert formats == {
        EU + "file-type/CSV": "http://testserver/helpdesk/open-data/segnalazioni.csv",
        EU + "file-type/GEOJSON": "http://testserver/helpdesk/open-data/segnalazioni.geojson",
    }
    for distribution in distributions:
        [licence] = _ref(distribution, "dct:license")
        assert licence == "https://creativecommons.org/licenses/by/4.0/"
        document = nodes[licence]
        assert document.tag == q("dcatapit:LicenseDocument")
        assert _ref(document, "dct:type") == ["http://purl.org/adms/licencetype/Attribution"]
        assert _text(document, "foaf:name") == ["CC BY"]
    # The URLs it gives work.
    for url in formats.values():
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("licence, url", [
    ("CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"),
    ("IODL-2.0", "https://www.dati.gov.it/iodl/2.0/"),
])
def test_the_licence_setting_is_the_licence_described(client, territory, licence, url):
    territory.configure(licence=licence)
    nodes, root = _parse(client)
    for distribution in root.findall(q("dcatapit:Distribution")):
        assert _ref(distribution, "dct:license") == [url]
    assert nodes[url].tag == q("dcatapit:LicenseDocument")
    assert url in client.get("/helpdesk/open-data/").content.decode()


def test_a_catalogue_holds_the_dataset(client, territory):
    nodes, root = _parse(client)
    catalog = _one(root, "dcatapit:Catalog")
    for prop in ("dct:title", "dct:description", "dct:modified"):
        assert _text(catalog, prop)[0]
    assert _ref(catalog, "dcat:dataset") == [_one(root, "dcatapit:Dataset").get(ABOUT)]
    assert nodes[_ref(catalog, "dct:publisher")[0]].tag == q("dcatapit:Agent")


def test_the_municipalitys_texts_are_used_and_escaped(client, territory):
    territory.configure(title="Disservizi <segnalati> & risolti",
                        description="Dal 2026, aggiornati ogni giorno.")
    _nodes, root = _parse(client)
    dataset = _one(root, "dcatapit:Dataset")
    assert _text(dataset, "dct:title") == ["Disservizi <segnalati> & risolti"]
    assert _text(dataset, "dct:description") == ["Dal 2026, aggiornati ogni giorno."]


def test_without_an_ipa_code_the_identifier_is_the_datasets_own(client, territory):
    territory.configure(publisher_ipa="", contact_email="")
    nodes, root = _parse(client)
    assert _text(_one(root, "dcatapit:Dataset"), "dct:identifier") == ["segnalazioni"]
    assert _text(_one(root, "dcatapit:Agent"), "dct:identifier") == []
    assert _ref(_one(root, "dcatapit:Organization"), "vcard:hasEmail") == []


def test_the_json_ld_says_the_same(client, territory):
    _nodes, root = _parse(client)
    response = client.get(JSONLD_URL)
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    assert document["@context"]["dcatapit"] == NAMESPACES["dcatapit"]
    graph = {item["@id"]: item for item in document["@graph"]}
    assert set(graph) == {element.get(ABOUT) for element in root}
    dataset = next(item for item in graph.values() if "dcatapit:Dataset" in item["@type"])
    assert dataset["dct:identifier"] == "c_x998:segnalazioni"
    assert {"@id": EU + "data-theme/GOVE"} in dataset["dcat:theme"]
    assert len(dataset["dcat:distribution"]) == 2
