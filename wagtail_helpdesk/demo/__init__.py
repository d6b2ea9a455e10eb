"""Demo data for the example site: ``manage.py helpdesk_demo``."""
