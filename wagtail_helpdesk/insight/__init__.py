"""Read-side figures about the work done (no writes: every change still goes
through :mod:`wagtail_helpdesk.services`)."""
