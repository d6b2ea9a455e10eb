"""StreamField blocks any page can use: the citizens' forms."""

from .forms import AssistanceRequestBlock, HelpdeskFormBlock, TerritorialReportBlock

__all__ = ["AssistanceRequestBlock", "HelpdeskFormBlock", "TerritorialReportBlock"]
