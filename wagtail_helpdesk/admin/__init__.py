"""The "Helpdesk" section of the Wagtail admin."""
