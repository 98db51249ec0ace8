"""The Tortoise ORM model (tables and their enums), shared by all; imports nothing of ours."""

from models.crm import Application, BotPrompt, Broadcast, BroadcastStatus, ProfileChange, Review
from models.delivery import OutboxMessage, OutboxStatus, Priority, TelegramChat
from models.events import DeliveryStatus, EventDelivery, EventRecord
from models.leads import CrmStatus, LeadEntry, LeadNote, LeadTouch
from models.referrals import RefVisit
from models.scenarios import RunStatus, ScenarioRun
from models.users import Role, User, UserCapability
from models.webinars import (
    Attendance,
    AutoSeries,
    ChatMessage,
    ChatMute,
    StreamType,
    Webinar,
    WebinarAttendance,
    WebinarKind,
    WebinarRegistration,
    WebinarStatus,
)

__all__ = [
    "Application",
    "Attendance",
    "AutoSeries",
    "BotPrompt",
    "Broadcast",
    "BroadcastStatus",
    "ChatMessage",
    "ChatMute",
    "CrmStatus",
    "DeliveryStatus",
    "EventDelivery",
    "EventRecord",
    "LeadEntry",
    "LeadNote",
    "LeadTouch",
    "OutboxMessage",
    "OutboxStatus",
    "Priority",
    "ProfileChange",
    "RefVisit",
    "Review",
    "Role",
    "RunStatus",
    "ScenarioRun",
    "StreamType",
    "TelegramChat",
    "User",
    "UserCapability",
    "Webinar",
    "WebinarAttendance",
    "WebinarKind",
    "WebinarRegistration",
    "WebinarStatus",
]

MODEL_MODULES = [
    "models.users",
    "models.leads",
    "models.events",
    "models.delivery",
    "models.scenarios",
    "models.referrals",
    "models.crm",
    "models.webinars",
]
