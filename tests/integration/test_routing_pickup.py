"""How a process learns of a new version of the responsibility list: the one
that published it at once, any other at its next check (every few seconds),
without a restart; a version once known is never looked up again."""

from __future__ import annotations

from datetime import UTC, datetime

import yaml

from app.clock import FixedClock
from app.db import Database
from app.routing_versions import CountyVersions
from app.settings import ROOT
from handlers.admin.routing import PublishVersion, publish_version
from handlers.context import Context
from routing.diff import diff, summary
from tests.fakes import FakeMiniProgram, FakePhotoLinks, MemoryPhotoStore, MemoryStamps, fake_processor

CONFIG = ROOT / "config" / "county.yaml"


class Ticks:
    """A monotonic clock the test steps, so a slow machine cannot reach the next check early."""

    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


def _process(db: Database, clock: FixedClock, ticks: Ticks) -> CountyVersions:
    return CountyVersions(db.uow, db.read, clock.now, str(CONFIG), check_seconds=5.0, monotonic=ticks)


def test_another_process_routes_by_a_new_version_after_its_next_check(database_url: str) -> None:
    db = Database(database_url)
    clock = FixedClock(datetime(2026, 6, 2, 2, 0, tzinfo=UTC))
    ticks = Ticks()
    publisher, other = _process(db, clock, ticks), _process(db, clock, ticks)
    assert publisher.in_effect().version == other.in_effect().version == "2023.1"
    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    raw["version"] = "2026.2"
    raw["daily_case_limit"] = 30
    ctx = Context(
        uow=db.uow,
        clock=clock,
        county=publisher.in_effect(),
        photos=MemoryPhotoStore(),
        process_photo=fake_processor,
        wechat=FakeMiniProgram(),
        photo_links=FakePhotoLinks(),
        seen_stamps=MemoryStamps(),
        routing=publisher,
    )
    cmd = PublishVersion(document=yaml.safe_dump(raw, allow_unicode=True), note="每日上限调整为 30 件")
    publish_version(ctx, cmd, None)
    assert publisher.in_effect().daily_case_limit == 30  # at once where it was published
    assert other.in_effect().version == "2023.1"  # elsewhere at the next check
    ticks.at += 4.9
    assert other.in_effect().version == "2023.1"  # not checked again yet
    ticks.at += 0.1
    assert other.in_effect().version == "2026.2"
    old = other.named("2023.1")
    assert old is not None and old.daily_case_limit == 20 and other.named("2099.9") is None
    db.dispose()


def test_a_diff_names_what_was_added_removed_and_changed() -> None:
    from routing import load_config, parse_config

    before = load_config(CONFIG)
    raw = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    raw["departments"].append({"name": "人防办", "full_name": "永宁县人民防空办公室"})
    raw["categories"] = [c for c in raw["categories"] if c["code"] != "dangerous_dog"]
    next(c for c in raw["categories"] if c["code"] == "fire_lane_blocked")["accept_within"] = "15m"
    changes = diff(before, parse_config(raw))
    assert [a["key"] for a in changes["departments"]["added"]] == ["人防办"]
    assert [r["key"] for r in changes["categories"]["removed"]] == ["dangerous_dog"]
    assert changes["clocks"]["changed"] == [
        {"key": "fire_lane_blocked", "before": {"accept_within": "30m"}, "after": {"accept_within": "15m"}}
    ]
    assert changes["routes"] == {"added": [], "removed": [], "changed": []}
    assert "时限 fire_lane_blocked：accept_within 30m → 15m" in summary(changes)
