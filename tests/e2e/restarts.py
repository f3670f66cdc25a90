"""The harness of the dependency-restart test: residents filing continuously
over HTTP (retrying a 503 or a lost connection with the same Idempotency-Key,
as the mini-program does), and the measures read from what they saw and what
the fake WeChat received."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.e2e.procs import ROOT
from tests.helpers import jpeg_bytes

# A push this soon after the filing's answer came by the wake-up, not the timer.
FAST_SECONDS = 1.5
# The fast path is back once every case answered over this long was pushed fast.
WINDOW_SECONDS = 2.5
GIVE_UP_SECONDS = 60.0
PAUSE_SECONDS = 0.25
PHOTO_EVERY = 5  # every fifth filing carries a photo


def restart_config(tmp_path: Path) -> Path:
    """The shipped county, with room for many filings a day and the new-case
    message a long-term subscription (one accept, every message)."""
    raw = yaml.safe_load((ROOT / "config" / "county.yaml").read_text(encoding="utf-8"))
    raw["daily_case_limit"] = 100000
    raw["subscribe_templates"]["new_case"]["long_term"] = True
    path = tmp_path / "restart-county.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Filing:
    resident: int
    key: str
    case_id: int
    number: str
    answered_at: float
    photo_id: str | None
    created: bool  # 201; a 200 answered a retry with the case an earlier try had filed


@dataclass
class Residents:
    """Residents filing cases in threads until stopped."""

    base: str
    tokens: list[str]
    community: int
    pause: float = PAUSE_SECONDS
    accepted: list[Filing] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    answered: list[tuple[float, str]] = field(default_factory=list)  # (when, status) of every answer
    gave_up: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for i in range(len(self.tokens)):
            thread = threading.Thread(target=self._file_continuously, args=(i,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(GIVE_UP_SECONDS + 15)

    def _note(self, status: str) -> None:
        with self._lock:
            self.answers[status] += 1
            self.answered.append((time.time(), status))

    def _post(self, http: requests.Session, key: str, **kwargs: Any) -> requests.Response | None:
        """One request, retried after a 503 (waiting its Retry-After) or a lost
        connection, with the same key; None once it gives up."""
        deadline = time.monotonic() + GIVE_UP_SECONDS
        while time.monotonic() < deadline:
            try:
                answer = http.post(timeout=10, **kwargs)
            except requests.RequestException:
                self._note("network")
                time.sleep(0.5)
                continue
            self._note(str(answer.status_code))
            if answer.status_code != 503:
                return answer
            time.sleep(float(answer.headers.get("Retry-After") or 1))
        with self._lock:
            self.gave_up.append(key)
        return None

    def _file_continuously(self, i: int) -> None:
        http = requests.Session()
        auth = {"Authorization": f"Bearer {self.tokens[i]}"}
        n = 0
        while not self._stop.is_set():
            n += 1
            key = f"r{i}-{n}"
            photo = self._photo(http, auth, key) if n % PHOTO_EVERY == 0 else None
            body = {
                "category": "dog_unleashed",
                "community_id": self.community,
                "description": f"第{i}位居民的第{n}件：遛狗不拴绳",
                "photo_ids": [photo] if photo else [],
            }
            answer = self._post(
                http, key, url=f"{self.base}/api/v1/cases", json=body, headers=auth | {"Idempotency-Key": key}
            )
            if answer is not None and answer.status_code in (200, 201):
                case = answer.json()
                with self._lock:
                    created = answer.status_code == 201
                    self.accepted.append(
                        Filing(i, key, case["id"], case["number"], time.time(), photo, created)
                    )
            time.sleep(self.pause)

    def _photo(self, http: requests.Session, auth: dict[str, str], key: str) -> str | None:
        data = jpeg_bytes(size=(320, 240), color=(len(key) * 7 % 255, 90, 30))
        answer = self._post(
            http,
            key + "-photo",
            url=f"{self.base}/api/v1/photos",
            files={"file": ("p.jpg", data)},
            headers=auth,
        )
        return str(answer.json()["id"]) if answer is not None and answer.status_code == 201 else None

    def snapshot(self) -> list[Filing]:
        with self._lock:
            return list(self.accepted)

    def first_2xx_after(self, moment: float) -> float | None:
        with self._lock:
            times = [at for at, status in self.answered if at >= moment and status in ("200", "201")]
        return min(times) if times else None


def first_pushes(sent: list[dict[str, Any]]) -> dict[str, float]:
    """Each case number's first subscribe message, when it arrived."""
    firsts: dict[str, float] = {}
    for message in sent:
        if message["channel"] == "subscribe":
            number = message["body"]["data"]["character_string1"]["value"]
            firsts[number] = min(firsts.get(number, message["at"]), message["at"])
    return firsts


def fast_path_since(filings: list[Filing], pushes: dict[str, float], after: float) -> float | None:
    """When the wake-up path was seen working again after ``after``: the push
    of the first case from which on every case answered within the next
    ``WINDOW_SECONDS`` (at least three, spread over more than ``FAST_SECONDS``)
    was pushed within ``FAST_SECONDS``. A timer ticking every five seconds
    cannot pass for it: one tick cannot follow closely both the first and the
    last case, and two ticks do not fall in one window."""
    # A retry answered 200 was filed by an earlier try: its answer says nothing
    # of when its push could go.
    cases = sorted((f for f in filings if f.created and f.answered_at >= after), key=lambda f: f.answered_at)
    for i, first in enumerate(cases):
        window = [c for c in cases[i:] if c.answered_at <= first.answered_at + WINDOW_SECONDS]
        if len(window) == len(cases) - i:
            return None  # the window is not over yet
        if len(window) < 3 or window[-1].answered_at - first.answered_at < FAST_SECONDS + 0.2:
            continue
        if all(c.number in pushes and pushes[c.number] - c.answered_at < FAST_SECONDS for c in window):
            return pushes[first.number]
    return None


def log_problems(path: Path) -> list[str]:
    """Lines of a process's log that say something went wrong (not an outage
    noted once, which is a warning)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if re.search(r"\bERROR\b|\bCRITICAL\b|Traceback", line)]


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found
