"""The rows of :mod:`.dataset` written as CSV (RFC 4180) and GeoJSON
(RFC 7946), a piece at a time for a streamed response."""

import csv
import json

from .dataset import COLUMNS

#: The GeoJSON properties: the columns without the coordinates.
PROPERTIES = tuple(c for c in COLUMNS if c not in ("latitudine", "longitudine"))


class _Line:
    """A file-like object that hands back what the csv writer writes."""

    def write(self, value):
        return value


def _coordinate(value):
    # At most 6 decimals, without trailing zeros noise: 45.4645 not 45.464500.
    return f"{value:.6f}".rstrip("0").rstrip(".")


def csv_lines(rows):
    """The CSV text, header first: UTF-8, comma separated, CRLF line ends,
    fields quoted when needed (the csv module's RFC 4180 dialect)."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([
            _coordinate(row[column]) if column in ("latitudine", "longitudine") else row[column]
            for column in COLUMNS
        ])


def feature(row):
    """One GeoJSON Feature: a Point [longitude, latitude]; empty values null."""
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {"type": "Point", "coordinates": [row["longitudine"], row["latitudine"]]},
        "properties": {name: (row[name] if row[name] != "" else None) for name in PROPERTIES},
    }


def geojson_chunks(rows):
    """A GeoJSON FeatureCollection, one Feature per piece."""
    yield '{"type": "FeatureCollection", "features": ['
    separator = "\n"
    for row in rows:
        yield separator + json.dumps(feature(row), ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"
