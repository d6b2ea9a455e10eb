"""The public, anonymised dataset of territorial reports (open data).

* :mod:`.dataset`: which reports, which columns (:data:`.dataset.COLUMNS`), the rows;
* :mod:`.grid`: places moved to the centre of a grid cell;
* :mod:`.formats`: the rows streamed as CSV and GeoJSON;
* :mod:`.catalogue`: the DCAT-AP_IT description (RDF/XML and JSON-LD);
* :mod:`.views` and :mod:`.urls`: the public URLs under ``/helpdesk/open-data/``.

Switched on per site by an administrator (Settings → Open data,
:class:`~wagtail_helpdesk.models.OpenDataSettings`); while it is off every URL
answers 404. See docs/open-data.md.
"""
