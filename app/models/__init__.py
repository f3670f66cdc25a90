"""SQLAlchemy 2 typed models, a module per aggregate."""

from app.db import Base
from app.models.cases import (
    Assignment,
    Case,
    CaseEvent,
    CaseNumberCounter,
    Escalation,
    Extension,
    Photo,
)
from app.models.county import Change, RoutingVersion
from app.models.outbox import CallbackReceipt, JobLock, Notification, WeChatTokenCache
from app.models.people import StaffInvite, Subscription, User
from app.models.places import (
    Community,
    CommunityCompany,
    Department,
    Disclosure,
    PropertyCompany,
    StarRating,
)
from app.models.violations import LadderRecord, Violation

__all__ = [
    "Assignment",
    "Base",
    "CallbackReceipt",
    "Case",
    "CaseEvent",
    "CaseNumberCounter",
    "Change",
    "Community",
    "CommunityCompany",
    "Department",
    "Disclosure",
    "Escalation",
    "Extension",
    "JobLock",
    "LadderRecord",
    "Notification",
    "Photo",
    "PropertyCompany",
    "RoutingVersion",
    "StaffInvite",
    "StarRating",
    "Subscription",
    "User",
    "Violation",
    "WeChatTokenCache",
]
