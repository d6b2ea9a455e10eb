"""The public files: CSV and GeoJSON at stable URLs, streamed, cached,
rate-limited, and 404 while the open data is off."""

import csv
import io
import json

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_helpdesk.opendata import dataset, views
from wagtail_helpdesk.workflow import Status

pytestmark = pytest.mark.django_db

URLS = {
    "page": "/helpdesk/open-data/",
    "csv": "/helpdesk/open-data/segnalazioni.csv",
    "geojson": "/helpdesk/open-data/segnalazioni.geojson",
    "rdf": "/helpdesk/open-data/catalogo.rdf",
    "jsonld": "/helpdesk/open-data/catalogo.jsonld",
}

_NULLABLE_TEXT = {"type": ["string", "null"]}
_DAY = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

#: The published GeoJSON, as RFC 7946 and docs/open-data.md describe it.
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["type", "features"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": {
            "type": "object",
            "required": ["type", "id", "geometry", "properties"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "Feature"},
                "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                "geometry": {
                    "type": "object", "required": ["type", "coordinates"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"const": "Point"},
                        "coordinates": {
                            "type": "array", "minItems": 2, "maxItems": 2,
                            "prefixItems": [{"type": "number", "minimum": -180, "maximum": 180},
                                            {"type": "number", "minimum": -90, "maximum": 90}],
                        },
                    },
                },
                "properties": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "categoria", "categoria_codice", "stato",
                                 "data_ricezione", "data_risoluzione", "ufficio", "esito"],
                    "properties": {
                        "id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                        "categoria": {"type": "string", "minLength": 1},
                        "categoria_codice": {"type": "string", "pattern": "^[-a-z0-9_]+$"},
                        "stato": {"enum": ["aperta", "presa_in_carico", "in_attesa", "risolta"]},
                        "data_ricezione": _DAY,
                        "data_risoluzione": {"anyOf": [_DAY, {"type": "null"}]},
                        "ufficio": _NULLABLE_TEXT,
                        "esito": _NULLABLE_TEXT,
                    },
                },
            },
        }},
    },
}


def _body(response):
    return b"".join(response.streaming_content).decode("utf-8")


def test_the_csv_has_exactly_the_documented_columns(client, territory):
    territory.report(status=Status.RESOLVED)
    territory.report(status=Status.WAITING)
    response = client.get(URLS["csv"])
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv; charset=utf-8")
    text = _body(response)
    assert text.startswith(",".join(dataset.COLUMNS) + "\r\n")  # RFC 4180: CRLF
    table = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(table) == 2
    assert [tuple(row) for row in table] == [dataset.COLUMNS] * 2
    assert {row["stato"] for row in table} == {"risolta", "in_attesa"}
    for row in table:
        for column in ("latitudine", "longitudine"):
            assert len(row[column].split(".")[1]) <= 6


def test_a_name_with_commas_and_quotes_is_quoted(client, territory):
    odd = territory.factories.report_category(territory.office,
                                              name='Alberi, siepi e "verde"', open_data=True)
    territory.report(category=odd)
    text = _body(client.get(URLS["csv"]))
    assert '"Alberi, siepi e ""verde"""' in text
    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["categoria"] == 'Alberi, siepi e "verde"'


def test_the_geojson_is_a_valid_feature_collection_of_points(client, territory):
    territory.report(status=Status.RESOLVED, latitude="45.464211", longitude="9.190123")
    territory.report(status=Status.NEW, latitude="45.464300", longitude="9.190200")
    territory.report(status=Status.IN_PROGRESS, latitude="45.480000", longitude="9.200000")
    response = client.get(URLS["geojson"])
    assert response["Content-Type"].startswith("application/geo+json")
    document = json.loads(_body(response))
    jsonschema.validate(document, SCHEMA)
    features = document["features"]
    assert len(features) == 3
    # Longitude first (RFC 7946); the first two fall in one 100 m cell.
    assert features[0]["geometry"]["coordinates"] == features[1]["geometry"]["coordinates"]
    assert features[0]["geometry"]["coordinates"][0] == pytest.approx(9.19, abs=0.002)
    assert features[2]["geometry"]["coordinates"] != features[0]["geometry"]["coordinates"]
    assert features[1]["properties"]["esito"] is None
    assert features[0]["properties"]["esito"] == "Risolta"
    assert [f["id"] for f in features] == [f["properties"]["id"] for f in features]


def test_the_schema_refuses_what_must_not_be_there():
    """The schema is strict: an extra property (a subject, say) fails it."""
    good = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": "0123456789abcdef",
        "geometry": {"type": "Point", "coordinates": [9.19, 45.46]},
        "properties": {"id": "0123456789abcdef", "categoria": "Buche",
                       "categoria_codice": "buche", "stato": "aperta",
                       "data_ricezione": "2026-01-02", "data_risoluzione": None,
                       "ufficio": "Lavori pubblici", "esito": None}}]}
    jsonschema.validate(good, SCHEMA)
    bad = json.loads(json.dumps(good))
    bad["features"][0]["properties"]["oggetto"] = "Buca in via Roma"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)


def test_the_grid_setting_moves_the_published_points(client, territory):
    territory.report(latitude="45.464211", longitude="9.190123")
    fine = json.loads(_body(client.get(URLS["geojson"])))["features"][0]
    territory.configure(grid_metres=5000)
    coarse = json.loads(_body(client.get(URLS["geojson"])))["features"][0]
    assert fine["geometry"] != coarse["geometry"]
    assert coarse["geometry"]["coordinates"][1] == pytest.approx(45.464211, abs=0.023)


@pytest.mark.parametrize("name", list(URLS))
def test_everything_is_404_while_open_data_is_off(client, territory, name):
    territory.report()
    assert client.get(URLS[name]).status_code == 200
    territory.configure(enabled=False)
    assert client.get(URLS[name]).status_code == 404


def test_off_by_default(client, factories):
    from wagtail_helpdesk.models import OpenDataSettings

    assert OpenDataSettings.for_site(factories.default_site()).enabled is False
    assert all(client.get(url).status_code == 404 for url in URLS.values())


@pytest.mark.parametrize("name", ["csv", "geojson", "rdf"])
def test_files_are_cached_an_hour_and_revalidated_by_etag(client, territory, name):
    ticket = territory.report()
    response = client.get(URLS[name])
    assert "public" in response["Cache-Control"] and "max-age=3600" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    etag = response["ETag"]
    again = client.get(URLS[name], HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    assert "Last-Modified" not in response  # it could not tell every change (see views)
    # A change to a published report (or the settings) changes the ETag.
    from wagtail_helpdesk import services

    services.take_charge(ticket, territory.operator)
    changed = client.get(URLS[name], HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    territory.configure(licence="CC0-1.0")
    assert client.get(URLS[name], HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 200


def test_downloads_are_rate_limited_per_address(client, territory, monkeypatch):
    monkeypatch.setattr(views, "DOWNLOADS_PER_HOUR", 3)
    for _ in range(3):
        assert client.get(URLS["csv"], REMOTE_ADDR="203.0.113.5").status_code == 200
    limited = client.get(URLS["geojson"], REMOTE_ADDR="203.0.113.5")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert client.get(URLS["csv"], REMOTE_ADDR="203.0.113.6").status_code == 200


def test_only_get_and_head(client, territory, django_assert_num_queries):
    assert client.post(URLS["csv"]).status_code == 405
    territory.report()
    with django_assert_num_queries(3):  # the settings and the ETag: not the rows
        response = client.head(URLS["csv"])
        assert response.status_code == 200 and "ETag" in response
        assert b"".join(response.streaming_content) in (b"", ",".join(dataset.COLUMNS).encode()
                                                        + b"\r\n")


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        assert response.status_code == 200
        body = _body(response) if response.streaming else response.content.decode()
    return len(ctx.captured_queries), body


@pytest.mark.parametrize("name", ["csv", "geojson"])
def test_the_export_takes_the_same_queries_for_3_and_30_rows(client, territory, name):
    """Pinned: the settings (site and settings row), the ETag aggregate and
    the one streamed query, whatever the number of rows."""
    for _ in range(3):
        territory.report(status=Status.RESOLVED)
    few, body = _queries(client, URLS[name])
    assert body.count("Buche stradali") == 3
    for _ in range(27):
        territory.report()
    many, body = _queries(client, URLS[name])
    assert body.count("Buche stradali") == 30
    assert few == many
    assert many == 4
