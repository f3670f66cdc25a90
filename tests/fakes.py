"""In-memory fakes of the ports (handlers/ports.py) for the handlers' unit
tests: no HTTP, no files, no processes. mypy checks them against the
Protocols (``make typecheck``), so a fake cannot drift from its port."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from handlers.ports import (
    JSONDict,
    Metrics,
    MiniProgramAPI,
    OutboxWaker,
    PhotoLinker,
    PhotoProcessor,
    PhotoRejected,
    PhotoStore,
    ProcessedPhoto,
    SeenStamps,
    SendFailed,
    WeChatRejected,
    WeChatSession,
    WeChatUnavailable,
    WeComAPI,
)


@dataclass
class FakeMiniProgram:
    """Logs ``user-<name>:<n>`` in as openid ``o-<name>``; text passes unless told
    otherwise; subscribe messages are recorded, or fail as queued."""

    verdict: str = "pass"  # or review, risky, away
    media_away: bool = False
    media_checks: list[JSONDict] = field(default_factory=list)
    sent: list[JSONDict] = field(default_factory=list)
    send_failures: list[SendFailed] = field(default_factory=list)
    used_codes: set[str] = field(default_factory=set)
    # What content security was asked: (content, openid).
    checked: list[tuple[str, str]] = field(default_factory=list)
    # Refusals the next logins meet, in order (40226 risky user, 45011 too frequent, ...).
    login_refusals: list[WeChatRejected] = field(default_factory=list)

    def code_to_session(self, code: str) -> WeChatSession:
        if self.login_refusals:
            raise self.login_refusals.pop(0)
        if code == "away":
            raise WeChatUnavailable("fake: down")
        if not code.startswith("user-"):
            raise WeChatRejected(40029, "invalid code")
        if code in self.used_codes:
            raise WeChatRejected(40163, "code been used")
        self.used_codes.add(code)
        return WeChatSession("o-" + code.removeprefix("user-").split(":", 1)[0])

    def check_text(self, content: str, openid: str, scene: int = 2) -> str:
        self.checked.append((content, openid))
        if self.verdict == "away":
            raise WeChatUnavailable("fake: down")
        return self.verdict

    def send_subscribe(self, openid: str, template_id: str, data: JSONDict, page: str | None = None) -> str:
        if self.send_failures:
            raise self.send_failures.pop(0)
        self.sent.append({"touser": openid, "template_id": template_id, "data": data, "page": page})
        return f"msg-{len(self.sent)}"

    def check_media(self, media_url: str, openid: str, scene: int = 2) -> str:
        if self.media_away:
            raise WeChatUnavailable("fake: down")
        trace_id = f"trace-{len(self.media_checks) + 1}"
        self.media_checks.append({"media_url": media_url, "openid": openid, "trace_id": trace_id})
        return trace_id


@dataclass
class FakeWeCom:
    known: set[str] = field(default_factory=lambda: {"wecom-staff"})
    cards: list[JSONDict] = field(default_factory=list)
    failures: list[SendFailed] = field(default_factory=list)

    def send_text_card(self, user_ids: list[str], title: str, description: str, url: str) -> list[str]:
        if self.failures:
            raise self.failures.pop(0)
        self.cards.append({"to": list(user_ids), "title": title, "description": description, "url": url})
        return [u for u in user_ids if u not in self.known]


class MemoryPhotoStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.objects.setdefault(key, data)

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def keys(self) -> Iterator[str]:
        yield from sorted(self.objects)


@dataclass
class FakePhotoLinks:
    """Public links on a made-up address, or none when ``base`` is empty."""

    base: str = "https://cases.test"

    def public_url(self, photo_id: str) -> str | None:
        return f"{self.base}/api/v1/photos/{photo_id}?signed" if self.base else None


class MemoryStamps:
    """Push stamps in a dict, expiring on the clock they are given."""

    def __init__(self) -> None:
        self.until: dict[str, datetime] = {}

    def first_seen(self, key: str, now: datetime, until: datetime) -> bool:
        if key in self.until and self.until[key] > now:
            return False
        self.until[key] = until
        return True

    def forget(self, key: str) -> None:
        self.until.pop(key, None)


def fake_processor(data: bytes) -> ProcessedPhoto:
    """Anything starting with ``JPEG`` is a 1600x1200 photo; anything else is refused."""
    if not data:
        raise PhotoRejected("photo_empty", "图片内容为空")
    if not data.startswith(b"JPEG"):
        raise PhotoRejected("photo_not_image", "文件不是可识别的图片，请上传 JPG 或 PNG 照片")
    return ProcessedPhoto(
        hashlib.sha256(data).hexdigest(), b"display:" + data, b"thumb:" + data, 1600, 1200, 400, 300
    )


@dataclass
class CountingWaker:
    calls: int = 0

    def __call__(self) -> None:
        self.calls += 1


@dataclass
class CountingMetrics:
    """Every count told, by name and label, to compare with what committed."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    sweeps: list[float] = field(default_factory=list)

    def _add(self, name: str, label: str, count: int = 1) -> None:
        self.counts[(name, label)] = self.counts.get((name, label), 0) + count

    def of(self, name: str) -> dict[str, int]:
        """The counts of one metric by label."""
        return {label: n for (metric, label), n in self.counts.items() if metric == name}

    def case_filed(self, category: str) -> None:
        self._add("cases_filed", category)

    def notification_sent(self, channel: str) -> None:
        self._add("notifications_sent", channel)

    def notification_failed(self, reason: str) -> None:
        self._add("notifications_failed", reason)

    def escalated(self, step: str, count: int = 1) -> None:
        self._add("escalations", step, count)

    def sweep_took(self, seconds: float) -> None:
        self.sweeps.append(seconds)


# Checked by mypy: each fake is what its port says.
_mini: MiniProgramAPI = FakeMiniProgram()
_wecom: WeComAPI = FakeWeCom()
_store: PhotoStore = MemoryPhotoStore()
_processor: PhotoProcessor = fake_processor
_links: PhotoLinker = FakePhotoLinks()
_stamps: SeenStamps = MemoryStamps()
_waker: OutboxWaker = CountingWaker()
_metrics: Metrics = CountingMetrics()
