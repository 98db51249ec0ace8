"""The Tortoise ORM model shared by bot, web, scheduler and the hub."""

from models.delivery import OutboxMessage, OutboxStatus, Priority, TelegramChat
from models.events import DeliveryStatus, EventDelivery, EventRecord
from models.leads import LeadEntry, LeadTouch
from models.referrals import RefVisit
from models.scenarios import RunStatus, ScenarioRun
from models.users import Role, User, UserCapability

__all__ = [
    "DeliveryStatus",
    "EventDelivery",
    "EventRecord",
    "LeadEntry",
    "LeadTouch",
    "OutboxMessage",
    "OutboxStatus",
    "Priority",
    "RefVisit",
    "Role",
    "RunStatus",
    "ScenarioRun",
    "TelegramChat",
    "User",
    "UserCapability",
]

MODEL_MODULES = [
    "models.users",
    "models.leads",
    "models.events",
    "models.delivery",
    "models.scenarios",
    "models.referrals",
]
