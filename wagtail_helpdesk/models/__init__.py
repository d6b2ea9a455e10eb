from .assist import AssistSettings, TicketEmbedding
from .catalogue import (
    ChatRouting,
    Office,
    OfficeMembership,
    ReportCategory,
    ResolutionType,
    Service,
    ServiceCategory,
)
from .citizens import Citizen, CitizenLogin
from .consults import TicketConsult
from .conversations import (
    AuthorKind,
    Conversation,
    ConversationMessage,
    ConversationParticipant,
    ConversationState,
    Identity,
    ParticipantRole,
)
from .exports import ExportFormat, ExportStatus, TicketExport
from .figures import DailyFigures, FiguresDay
from .inbound import InboundMessage, InboundOutcome, Mailbox, MailboxProtocol, MailboxSecurity
from .labels import LABEL_HEX, Label, LabelColour, TicketLabel
from .notifications import Notification, NotificationChannel, NotificationStatus
from .oidc import IdentityProvider, ProviderProfile, TrustMark
from .open311 import Open311Client
from .opendata import Licence, OpenDataSettings
from .operators import NewTicketMail, OperatorPreferences, OperatorPresence, Presence
from .overviews import Overview, OverviewStatus, OverviewSubscription
from .quickreplies import QuickReply
from .settings import HelpdeskSettings, ShortCodeMode
from .tickets import (
    AppendOnlyError,
    Attachment,
    Channel,
    EventKind,
    Kind,
    Priority,
    ShortCodeSequence,
    Ticket,
    TicketEvent,
    Visibility,
)

__all__ = [
    "LABEL_HEX",
    "Label",
    "LabelColour",
    "Licence",
    "OpenDataSettings",
    "Overview",
    "OverviewStatus",
    "OverviewSubscription",
    "TicketLabel",
    "AssistSettings",
    "TicketEmbedding",
    "InboundMessage",
    "InboundOutcome",
    "Mailbox",
    "MailboxProtocol",
    "MailboxSecurity",
    "AppendOnlyError",
    "Attachment",
    "AuthorKind",
    "Channel",
    "ChatRouting",
    "Citizen",
    "CitizenLogin",
    "Conversation",
    "DailyFigures",
    "FiguresDay",
    "ConversationMessage",
    "ConversationParticipant",
    "ConversationState",
    "IdentityProvider",
    "ProviderProfile",
    "TrustMark",
    "EventKind",
    "HelpdeskSettings",
    "Identity",
    "Kind",
    "Notification",
    "NotificationChannel",
    "NotificationStatus",
    "Office",
    "ParticipantRole",
    "NewTicketMail",
    "OperatorPreferences",
    "OperatorPresence",
    "OfficeMembership",
    "Open311Client",
    "Presence",
    "Priority",
    "QuickReply",
    "ReportCategory",
    "ResolutionType",
    "Service",
    "ServiceCategory",
    "ShortCodeMode",
    "ShortCodeSequence",
    "Ticket",
    "TicketConsult",
    "TicketExport",
    "ExportFormat",
    "ExportStatus",
    "TicketEvent",
    "Visibility",
]
