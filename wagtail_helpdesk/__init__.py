"""wagtail_helpdesk: a multichannel help desk for Italian municipalities, as a Wagtail plugin."""

__version__ = "0.1.0.dev0"
