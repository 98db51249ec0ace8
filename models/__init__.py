"""The Tortoise ORM model shared by bot, web, scheduler and the hub."""

from models.events import DeliveryStatus, EventDelivery, EventRecord
from models.leads import LeadEntry, LeadTouch
from models.users import Role, User

__all__ = [
    "DeliveryStatus",
    "EventDelivery",
    "EventRecord",
    "LeadEntry",
    "LeadTouch",
    "Role",
    "User",
]

MODEL_MODULES = ["models.users", "models.leads", "models.events"]
