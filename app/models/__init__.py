"""SQLAlchemy 2 typed models, a module per aggregate."""

from app.db import Base
from app.models.cases import (
    Assignment,
    Case,
    CaseClock,
    CaseEvent,
    CaseNumberCounter,
    Escalation,
    Extension,
    Photo,
)
from app.models.console import ConsoleLogin, ConsoleLoginFailure, ConsoleSession
from app.models.county import Change, RoutingVersion
from app.models.open311 import Open311Filing, Open311Key
from app.models.outbox import CallbackReceipt, JobLock, Notification, PushStamp, WeChatTokenCache
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
    "CaseClock",
    "CaseEvent",
    "CaseNumberCounter",
    "Change",
    "Community",
    "CommunityCompany",
    "ConsoleLogin",
    "ConsoleLoginFailure",
    "ConsoleSession",
    "Department",
    "Disclosure",
    "Escalation",
    "Extension",
    "JobLock",
    "LadderRecord",
    "Notification",
    "Open311Filing",
    "Open311Key",
    "Photo",
    "PropertyCompany",
    "PushStamp",
    "RoutingVersion",
    "StaffInvite",
    "StarRating",
    "Subscription",
    "User",
    "Violation",
    "WeChatTokenCache",
]
