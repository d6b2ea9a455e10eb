"""The scale benchmark: a reproducible PostgreSQL dataset (``dataset``), the
operator, API and citizen pages measured against it (``pages``) and the
report that puts sizes and django-helpdesk side by side (``report``).

See docs/scale.md; ``make bench`` runs it all.
"""
