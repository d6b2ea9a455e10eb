"""The DCAT-AP_IT description of the dataset, for the municipality's
open-data catalogue and dati.gov.it: a ``dcatapit:Catalog`` holding one
``dcatapit:Dataset`` with two ``dcatapit:Distribution`` (CSV and GeoJSON),
its publisher and rights holder (``dcatapit:Agent`` with the IPA code), its
contact point (``dcatapit:Organization``) and its licence
(``dcatapit:LicenseDocument``).

Built once as a small graph (:func:`graph`) and written as RDF/XML
(:func:`rdf_xml`) or JSON-LD (:func:`json_ld`). Classes, properties and
controlled vocabularies follow the DCAT-AP_IT profile (AgID guidelines
"linee guida cataloghi dati DCAT-AP_IT") and the EU authority tables.
"""

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..models.opendata import Licence

NAMESPACES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcatapit": "http://dati.gov.it/onto/dcatapit#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}

EU = "http://publications.europa.eu/resource/authority/"
#: Data themes: government and public sector; regions and cities.
THEMES = (EU + "data-theme/GOVE", EU + "data-theme/REGI")
FREQUENCY = EU + "frequency/DAILY"
LANGUAGE = EU + "language/ITA"
FILE_TYPES = {"csv": EU + "file-type/CSV", "geojson": EU + "file-type/GEOJSON"}
MEDIA_TYPES = {"csv": "text/csv", "geojson": "application/geo+json"}

#: Licence choice → (licence document URL, ADMS licence type, name, version).
LICENCES = {
    Licence.CC_BY_4: ("https://creativecommons.org/licenses/by/4.0/",
                      "http://purl.org/adms/licencetype/Attribution", "CC BY", "4.0"),
    Licence.CC0: ("https://creativecommons.org/publicdomain/zero/1.0/",
                  "http://purl.org/adms/licencetype/PublicDomain", "CC0", "1.0"),
    Licence.IODL_2: ("https://www.dati.gov.it/iodl/2.0/",
                     "http://purl.org/adms/licencetype/Attribution", "IODL", "2.0"),
}

DEFAULT_TITLE = "Segnalazioni dei cittadini"
DATASET_CODE = "segnalazioni"


def default_description(options):
    days = options.delay_days
    delay = ("il giorno stesso della ricezione" if days == 0
             else "il giorno dopo la ricezione" if days == 1
             else f"{days} giorni dopo la ricezione")
    return (
        "Le segnalazioni di disservizi sul territorio ricevute dal Comune: tipo di "
        "disservizio, stato, date di ricezione e di risoluzione, ufficio competente ed "
        f"esito, con il luogo spostato al centro di una griglia di {options.grid_metres} "
        f"metri. Pubblicate {delay}; senza testi "
        "né dati personali."
    )


@dataclass(frozen=True)
class Ref:
    uri: str


@dataclass(frozen=True)
class Text:
    value: str
    lang: str = ""
    datatype: str = ""  # a prefixed name, e.g. "xsd:date"


@dataclass
class Node:
    about: str
    types: list
    props: list = field(default_factory=list)  # (prefixed property, Ref | Text)

    def add(self, prop, value):
        if value is not None and value != Text(""):
            self.props.append((prop, value))
        return self


def licence_url(options):
    return LICENCES[options.licence][0]


def graph(options, urls, modified):
    """The nodes of the description. ``urls``: absolute URLs of "page", "csv",
    "geojson"; ``modified``: a date (the newest change in the data)."""
    page = urls["page"]
    publisher_name = options.publisher_name or options.publisher_ipa or page
    identifier = (f"{options.publisher_ipa}:{DATASET_CODE}" if options.publisher_ipa
                  else DATASET_CODE)
    title = options.title or DEFAULT_TITLE
    description = options.description or default_description(options)
    day = Text(modified.isoformat(), datatype="xsd:date")
    agent, contact, dataset = page + "#titolare", page + "#contatto", page + "#dataset"
    licence, licence_type, licence_name, licence_version = LICENCES[options.licence]

    catalog = (Node(page + "#catalogo", ["dcatapit:Catalog", "dcat:Catalog"])
               .add("dct:title", Text(f"Dati aperti - {publisher_name}", "it"))
               .add("dct:description", Text(f"Catalogo dei dati aperti: {title}.", "it"))
               .add("dct:publisher", Ref(agent))
               .add("dct:modified", day)
               .add("dct:language", Ref(LANGUAGE))
               .add("foaf:homepage", Ref(page))
               .add("dcat:dataset", Ref(dataset)))
    data = (Node(dataset, ["dcatapit:Dataset", "dcat:Dataset"])
            .add("dct:identifier", Text(identifier))
            .add("dct:title", Text(title, "it"))
            .add("dct:description", Text(description, "it")))
    for theme in THEMES:
        data.add("dcat:theme", Ref(theme))
    for keyword in ("segnalazioni", "disservizi", "territorio"):
        data.add("dcat:keyword", Text(keyword, "it"))
    (data.add("dct:modified", day)
         .add("dct:accrualPeriodicity", Ref(FREQUENCY))
         .add("dct:language", Ref(LANGUAGE))
         .add("dct:publisher", Ref(agent))
         .add("dct:rightsHolder", Ref(agent))
         .add("dcat:contactPoint", Ref(contact))
         .add("dcat:landingPage", Ref(page)))
    distributions = []
    for kind, label in (("csv", "CSV"), ("geojson", "GeoJSON")):
        uri = urls[kind]
        data.add("dcat:distribution", Ref(uri + "#distribuzione"))
        distributions.append(
            Node(uri + "#distribuzione", ["dcatapit:Distribution", "dcat:Distribution"])
            .add("dct:title", Text(f"{title} ({label})", "it"))
            .add("dct:description", Text(f"Il dataset in formato {label}.", "it"))
            .add("dct:format", Ref(FILE_TYPES[kind]))
            .add("dcat:mediaType", Text(MEDIA_TYPES[kind]))
            .add("dcat:accessURL", Ref(uri))
            .add("dcat:downloadURL", Ref(uri))
            .add("dct:license", Ref(licence))
            .add("dct:modified", day))
    holder = (Node(agent, ["dcatapit:Agent", "foaf:Agent"])
              .add("dct:identifier", Text(options.publisher_ipa))
              .add("foaf:name", Text(publisher_name, "it")))
    point = (Node(contact, ["dcatapit:Organization", "vcard:Organization"])
             .add("vcard:fn", Text(publisher_name, "it")))
    if options.contact_email:
        point.add("vcard:hasEmail", Ref("mailto:" + options.contact_email))
    licence_node = (Node(licence, ["dcatapit:LicenseDocument", "dct:LicenseDocument"])
                    .add("dct:type", Ref(licence_type))
                    .add("foaf:name", Text(licence_name))
                    .add("owl:versionInfo", Text(licence_version)))
    return [catalog, data, *distributions, holder, point, licence_node]


def _qualified(name):
    prefix, local = name.split(":", 1)
    return f"{{{NAMESPACES[prefix]}}}{local}"


def rdf_xml(nodes):
    """The graph as RDF/XML (bytes, UTF-8, with the XML declaration)."""
    for prefix, uri in NAMESPACES.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(_qualified("rdf:RDF"))
    about, resource = _qualified("rdf:about"), _qualified("rdf:resource")
    for node in nodes:
        element = ET.SubElement(root, _qualified(node.types[0]), {about: node.about})
        for extra in node.types[1:]:
            ET.SubElement(element, _qualified("rdf:type"),
                          {resource: _expand(extra)})
        for prop, value in node.props:
            if isinstance(value, Ref):
                ET.SubElement(element, _qualified(prop), {resource: value.uri})
                continue
            attributes = {}
            if value.lang:
                attributes["{http://www.w3.org/XML/1998/namespace}lang"] = value.lang
            if value.datatype:
                attributes[_qualified("rdf:datatype")] = _expand(value.datatype)
            ET.SubElement(element, _qualified(prop), attributes).text = value.value
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _expand(name):
    prefix, local = name.split(":", 1)
    return NAMESPACES[prefix] + local


def json_ld(nodes):
    """The same graph as JSON-LD (a string), with the prefixes as context."""
    context = {prefix: uri for prefix, uri in NAMESPACES.items() if prefix != "rdf"}
    items = []
    for node in nodes:
        item = {"@id": node.about, "@type": node.types}
        for prop, value in node.props:
            if isinstance(value, Ref):
                term = {"@id": value.uri}
            elif value.lang:
                term = {"@value": value.value, "@language": value.lang}
            elif value.datatype:
                term = {"@value": value.value, "@type": value.datatype}
            else:
                term = value.value
            if prop in item:
                previous = item[prop]
                item[prop] = (previous if isinstance(previous, list) else [previous]) + [term]
            else:
                item[prop] = term
        items.append(item)
    return json.dumps({"@context": context, "@graph": items}, ensure_ascii=False, indent=2)
