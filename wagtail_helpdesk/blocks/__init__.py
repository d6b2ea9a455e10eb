"""StreamField blocks any page can use: the citizens' forms and the live chat."""

from .chat import ChatLauncherBlock
from .forms import AssistanceRequestBlock, HelpdeskFormBlock, TerritorialReportBlock

__all__ = ["AssistanceRequestBlock", "ChatLauncherBlock", "HelpdeskFormBlock",
           "TerritorialReportBlock"]
