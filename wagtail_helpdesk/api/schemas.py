"""What the API reads and writes (pydantic schemas, published in the OpenAPI
document)."""

from datetime import date, datetime
from typing import Annotated, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator, StrictInt


def _no_nul(value):
    if "\x00" in value:
        raise ValueError(_("Remove the NUL character (\\x00): text cannot contain it."))
    return value


#: Text a caller sends: any string but the NUL character, which no database
#: column can hold (PostgreSQL refuses it).
Text = Annotated[str, AfterValidator(_no_nul)]

KindName = Literal["request", "report"]
StatusName = Literal["draft", "new", "in_progress", "waiting", "resolved"]
ActionName = Literal["take-charge", "assign", "transfer", "priority", "waiting", "resolve",
                     "reopen", "reply", "note"]
#: The ticket list's orderings (``api.cursor.ORDERINGS``; each backed by an index).
Ordering = Literal["-last_activity_at", "last_activity_at", "-created_at", "created_at",
                   "-updated_at", "updated_at", "-id", "id"]
ChannelName = Literal["web", "phone", "desk", "email", "api", "open311", "chat"]


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    username: str
    name: str = Field(description="Full name, else the username.")


class CitizenOut(Schema):
    """A citizen: what finding them shows, always; their full record (fiscal
    code, e-mail, phone, account) only when ``readable``, else null."""

    id: int
    given_name: str
    family_name: str
    birth_year: int | None = Field(description="From the fiscal code; null without one.")
    masked_fiscal_code: str = Field(description="E.g. RSS************S; empty without one.")
    masked_email: str = Field(description="E.g. m***@e***.it; empty without one.")
    readable: bool = Field(description=(
        "The caller may read the full record: the citizen has a ticket the caller may "
        "open, or the caller sees every office (and has view_citizen)."))
    declared: bool = Field(description=(
        "Declared, not verified: the details whoever sent the ticket gave (a form, an "
        "integration). Such a record belongs to its ticket; its fiscal code is a claim."))
    fiscal_code: str | None = Field(description="Full record: empty without one (for a "
                                                "declared record: the fiscal code declared).")
    email: str | None = Field(description="Full record.")
    phone: str | None = Field(description="Full record.")
    has_account: bool | None = Field(description="Full record: logs in with SPID/CIE.")


class LabelOut(Schema):
    id: int
    name: str
    colour: str = Field(description="A colour of the palette (grey, blue, teal, green, olive, "
                                    "orange, red, pink, purple, brown).")
    hex: str = Field(description="Its background colour, e.g. #b3261e (white text on it).")
    office: int | None = Field(description="The office whose vocabulary it belongs to; null "
                                           "for a global label.")


class Location(Schema):
    latitude: float | None
    longitude: float | None
    address: str


class Resolution(Schema):
    type: Ref | None
    text: str


class TicketOut(Schema):
    id: int
    short_code: str | None = Field(description="AST-/SEG-YYYY-NNNNNN, once submitted.")
    kind: KindName
    status: StatusName
    status_label: str
    priority: int = Field(ge=1, le=4, description="1 low, 2 normal, 3 high, 4 urgent.")
    channel: ChannelName
    subject: str
    description: str
    office: Ref | None
    service: Ref | None
    report_category: Ref | None
    assignee: UserRef | None
    citizen: CitizenOut | None
    location: Location | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    last_activity_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    due_at: datetime | None
    resolution: Resolution | None
    unread_count: int
    labels: list[LabelOut] = Field(description="By name.")
    version: int = Field(description="Send it back as expected_version to refuse "
                                     "acting on a ticket someone else changed meanwhile.")
    url: str
    admin_url: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    internal: bool = Field(description="Operators only; the citizen does not see it.")
    by_citizen: bool
    created_at: datetime
    url: str


class Actor(Schema):
    role: Literal["citizen", "operator", "integration", "system"]
    name: str


class EventOut(Schema):
    id: int
    kind: str
    title: str
    internal: bool
    created_at: datetime
    actor: Actor
    body: str
    details: list[str]
    attachments: list[AttachmentOut]


class TicketDetailOut(TicketOut):
    actions: list[ActionName] = Field(description=(
        "The workflow actions this token's user may take on the ticket now: POST "
        "tickets/{id}/<action>/."))
    timeline: list[EventOut] = Field(description="Oldest first. Internal events (notes, "
                                                 "notifications) only for users who may "
                                                 "change the ticket.")
    attachments: list[AttachmentOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None = Field(description="Pass it as cursor for the next page; "
                                                "null on the last page.")
    next: str | None = Field(description="The next page's URL.")


# Input -------------------------------------------------------------------------


class TicketFilters(Schema):
    """The ticket list's filters: the admin list's, by the same names."""

    queue: Literal["pending", "mine", "others", "waiting", "closed", "drafts", "all"] = "all"
    status: list[StatusName] = Field(default_factory=list)
    kind: KindName | None = None
    channel: list[ChannelName] = Field(default_factory=list)
    priority: list[int] = Field(default_factory=list)
    office: int | None = Field(None, description="Office id.")
    service: int | None = Field(None, description="Service id.")
    report_category: int | None = Field(None, description="Report category id.")
    assignee: int | None = Field(None, description="User id.")
    created_after: date | None = None
    created_before: date | None = None
    updated_after: date | None = None
    updated_before: date | None = None
    unread: bool | None = Field(None, description="Only tickets with unread citizen messages.")
    label: list[Text] = Field(default_factory=list, description=(
        "Label id or name (any case): a number is the id of a label you see, else a name; "
        "repeat it for tickets with any of the labels."))
    q: Text | None = Field(None, max_length=200, description=(
        "Search: code, number, fiscal code, citizen's name, subject, description, a label's "
        "name; label:name (label:\"two words\") keeps the tickets with that label."))


class CitizenIn(Schema):
    given_name: Text = Field(max_length=100)
    family_name: Text = Field(max_length=100)
    fiscal_code: Text = Field("", max_length=32)
    email: Text = Field("", max_length=254)
    phone: Text = Field("", max_length=40)


class TicketIn(Schema):
    kind: KindName
    service: int | None = Field(None, description="Service id (requests).")
    report_category: int | None = Field(None, description="Report category id (reports).")
    office: int | None = Field(None, description="Default: the service's or category's.")
    subject: Text = Field("", max_length=200)
    description: Text = Field("", max_length=20000)
    citizen_id: int | None = Field(None, description="An existing citizen.")
    citizen: CitizenIn | None = Field(None, description=(
        "Or the details the citizen gave: kept as this ticket's declared identity, never "
        "matched to a registered citizen (use citizen_id for one you have checked)."))
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    address: Text = Field("", max_length=255)
    priority: int = Field(2, ge=1, le=4)
    draft: bool = Field(False, description="Save as the caller's draft instead of submitting.")
    note: Text = Field("", max_length=20000, description="A private note for the office.")


class Expected(Schema):
    expected_version: int | None = Field(
        None, description="The ticket's version you saw: if it changed since, nothing is "
                          "done and the answer is 409.")


class AssignIn(Expected):
    assignee: int = Field(description="User id of an operator of the ticket's office.")


class TransferIn(Expected):
    office: int = Field(description="Office id.")
    note: Text = Field("", max_length=20000)


class TextIn(Expected):
    body: Text = Field(min_length=1, max_length=20000)


class PriorityIn(Expected):
    priority: int = Field(ge=1, le=4)


class WaitingIn(Expected):
    message: Text = Field("", max_length=20000, description="Sent to the citizen when given.")


class ResolveIn(Expected):
    resolution_type: int = Field(description="Resolution type id.")
    resolution_text: Text = Field(min_length=1, max_length=20000)


#: A label named by its id (a JSON number) or its name (a JSON string, even
#: one made of digits: "2024" is a name).
LabelRef = StrictInt | Text


class LabelsIn(Expected):
    add: list[LabelRef] = Field(default_factory=list, max_length=20, description=(
        "Labels to put on the ticket: ids (numbers) or names (strings, any case; \"2024\" "
        "is a name). A new name becomes a label of the ticket's office only where its "
        "vocabulary is open."))
    remove: list[LabelRef] = Field(default_factory=list, max_length=20, description=(
        "Labels to take off: ids (numbers) or names (strings)."))


class ReopenIn(Expected):
    reason: Text = Field("", max_length=20000)


# Catalogue -----------------------------------------------------------------------


class OfficeOut(Schema):
    id: int
    name: str
    slug: str
    email: str
    phone: str
    active: bool


class ServiceOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    category: Ref
    office: Ref
    sla_days: int | None
    active: bool


class ReportCategoryOut(Schema):
    id: int
    name: str
    slug: str
    description: str
    office: Ref
    sla_days: int | None
    active: bool


class ResolutionTypeOut(Schema):
    id: int
    name: str
    slug: str
    counts_as_solved: bool
    active: bool
