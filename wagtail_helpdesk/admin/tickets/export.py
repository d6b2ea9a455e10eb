"""The ticket list's export (CSV/XLSX): streamed in chunks, large ones in the
background (issue 20)."""


class TicketExportMixin:
    """Mixed into :class:`~.listing.TicketIndexView` before ``IndexView``."""
