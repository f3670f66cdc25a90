"""The outside services a handler may use, as typing.Protocols, and the
errors they may raise.

Adapters in ``app/`` implement these (``app/wechat``, ``app/photos``,
``app/wakeup``); in-memory fakes in ``tests/fakes.py`` implement them for
the handlers' unit tests. Handlers import this module, never an adapter.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from routing import CountyConfig

# A JSON object as stored in a notification's payload or an event's data.
JSONDict = dict[str, Any]


# -- errors the ports raise ------------------------------------------------------------


class WeChatUnavailable(Exception):
    """Network error, 5xx, -1 busy, 45009, or a token refused twice: try later."""


class WeChatRejected(Exception):
    """WeChat refused a login code; ``kind`` says why."""

    KINDS = {40029: "invalid_code", 40163: "code_used", 40226: "risky_user", 45011: "too_frequent"}

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.kind = self.KINDS.get(errcode, "rejected")


class SendFailed(Exception):
    """A message could not be sent. ``kind``: ``no_quota`` (try the next
    channel), ``permanent`` (can never succeed) or ``retry``."""

    PERMANENT = {40003, 40037, 41030, 47003, 81013, 40056, 60020, 40013, 40164, 43004, 43104}

    def __init__(self, kind: str, errcode: int | None, errmsg: str):
        super().__init__(f"{kind}: {errcode} {errmsg}")
        self.kind = kind
        self.errcode = errcode
        self.errmsg = errmsg

    @classmethod
    def of(cls, errcode: int | None, errmsg: str) -> SendFailed:
        if errcode == 43101:
            return cls("no_quota", errcode, errmsg)
        if errcode in cls.PERMANENT:
            return cls("permanent", errcode, errmsg)
        return cls("retry", errcode, errmsg)


class StorageUnavailable(Exception):
    """A store (the photos', the push stamps') cannot be reached now; trying
    again later may work."""


class PhotoRejected(Exception):
    """An upload that is not a photo we keep; ``code`` names why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- values crossing the ports ---------------------------------------------------------


@dataclass(frozen=True)
class WeChatSession:
    """What ``jscode2session`` answered; the session key never leaves the adapter."""

    openid: str
    unionid: str | None = None


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str  # of the uploaded bytes, for integrity
    display: bytes
    thumb: bytes
    width: int
    height: int
    thumb_width: int
    thumb_height: int


# -- the ports -------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...


class MiniProgramAPI(Protocol):
    """The mini-program's server API (login, content security, subscribe messages)."""

    def code_to_session(self, code: str) -> WeChatSession: ...

    def check_text(self, content: str, openid: str, scene: int = 2) -> str:
        """``pass``, ``review`` or ``risky``; raises WeChatUnavailable."""
        ...

    def send_subscribe(self, openid: str, template_id: str, data: JSONDict, page: str | None = None) -> str:
        """The message id; raises SendFailed."""
        ...

    def check_media(self, media_url: str, openid: str, scene: int = 2) -> str:
        """Ask for an image check (``media_check_async`` v2): WeChat fetches
        ``media_url`` itself and pushes the verdict later as a
        ``wxa_media_check`` event. Answers its trace id; raises WeChatUnavailable."""
        ...


class WeComAPI(Protocol):
    """WeCom (企业微信) app messages, the fallback channel for staff."""

    def send_text_card(self, user_ids: list[str], title: str, description: str, url: str) -> list[str]:
        """Send a card; answers the ids WeCom did not know. Raises SendFailed."""
        ...


class PhotoStore(Protocol):
    """Where photo bytes live, by key: a local folder or an S3-compatible bucket."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...


class PhotoLinker(Protocol):
    """Signed photo links."""

    def public_url(self, photo_id: str) -> str | None:
        """An absolute link to the display copy that anyone holding it (WeChat's
        image check) may fetch for a few days; None without a public address."""
        ...


class SeenStamps(Protocol):
    """The signed pushes already accepted, shared by every process (Redis or
    the database), each kept until its window is over."""

    def first_seen(self, key: str, now: datetime, until: datetime) -> bool:
        """Remember ``key`` until ``until``; False when it was already there.
        Raises StorageUnavailable."""
        ...

    def forget(self, key: str) -> None:
        """Let ``key`` be accepted again (its push could not be handled)."""
        ...


class PhotoProcessor(Protocol):
    """Decode, orient, strip and re-encode an upload; raises PhotoRejected."""

    def __call__(self, data: bytes) -> ProcessedPhoto: ...


class RoutingVersions(Protocol):
    """The versions of the responsibility list, as this process knows them."""

    def in_effect(self) -> CountyConfig:
        """The version in effect now (looked up again at most every few seconds)."""
        ...

    def named(self, version: str) -> CountyConfig | None:
        """A version by its name, or None when no such version was published."""
        ...

    def changed(self) -> None:
        """A version was just published here: look again at the next ``in_effect``."""
        ...


class OutboxWaker(Protocol):
    """Told after a commit that wrote outbox rows, so a sender wakes at once."""

    def __call__(self) -> None: ...


class Metrics(Protocol):
    """What the operators count (Prometheus in ``app/metrics.py``). Each call
    comes after the commit that made it true: a rolled-back step is never
    counted."""

    def case_filed(self, category: str) -> None: ...

    def notification_sent(self, channel: str) -> None: ...

    def notification_failed(self, reason: str) -> None:
        """``retry`` (tried again later), ``permanent``, ``no_channel`` or ``no_template``."""
        ...

    def escalated(self, step: str, count: int = 1) -> None:
        """``count`` steps of this name fired (and committed)."""
        ...

    def sweep_took(self, seconds: float) -> None: ...
