"""What a backup must bring back, in figures that can be compared: cases by
status, each case's timeline (event count and a hash of its rows and photos),
and the photo store's manifest (key, size, SHA-256 of each object).

``scripts/backup_drill.py`` takes these at backup time, from the same snapshot
as the dump, and checks a restored database and the photo store against them."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from app.models import Case, CaseEvent, Photo
from app.photos.transfer import StoredObject, inventory, sha256_hex
from handlers.ports import PhotoStore

MANIFEST_FIELDS = ("key", "size", "sha256")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _row_text(row: Any) -> str:
    return json.dumps([_plain(v) for v in row], sort_keys=True, ensure_ascii=False, default=str)


def summarize(conn: Connection) -> dict[str, Any]:
    """The database's figures, read in ``conn``'s transaction (its snapshot)."""
    by_status = {
        status: count
        for status, count in conn.execute(select(Case.status, func.count()).group_by(Case.status))
    }
    hashes: dict[int, Any] = {}
    counts: dict[int, int] = {}
    events = CaseEvent.__table__
    for row in conn.execute(select(events).order_by(events.c.case_id, events.c.id)):
        digest = hashes.setdefault(row.case_id, hashlib.sha256())
        digest.update(_row_text(row).encode())
        counts[row.case_id] = counts.get(row.case_id, 0) + 1
    photos = Photo.__table__
    for row in conn.execute(select(photos).where(photos.c.case_id.is_not(None)).order_by(photos.c.id)):
        hashes.setdefault(row.case_id, hashlib.sha256()).update(_row_text(row).encode())
    timelines = {
        str(case_id): {"events": counts.get(case_id, 0), "sha256": digest.hexdigest()}
        for case_id, digest in sorted(hashes.items())
    }
    return {"cases_by_status": by_status, "timelines": timelines}


def photo_keys(conn: Connection) -> list[tuple[str, str]]:
    """(photo id, key) of every stored object a photo row points at."""
    rows = conn.execute(select(Photo.id, Photo.display_key, Photo.thumb_key).order_by(Photo.id))
    return [(pid, key) for pid, display, thumb in rows for key in (display, thumb)]


def write_manifest(store: PhotoStore, path: Path) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(MANIFEST_FIELDS)
        for item in inventory(store):
            writer.writerow((item.key, item.size, item.sha256))
            count += 1
    return count


def read_manifest(path: Path) -> dict[str, StoredObject]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {r["key"]: StoredObject(r["key"], int(r["size"]), r["sha256"]) for r in rows}


@dataclass
class Verdict:
    """What was compared, line by line, and what did not match."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def compared(self, what: str, problems: Iterable[str]) -> None:
        found = list(problems)
        self.lines.append(f"{what}: {'ok' if not found else f'{len(found)} MISMATCH(ES)'}")
        self.problems.extend(found)


def compare_cases(expected: dict[str, Any], actual: dict[str, Any], verdict: Verdict) -> None:
    want, got = expected["cases_by_status"], actual["cases_by_status"]
    shown = ", ".join(f"{s} {want.get(s, 0)}={got.get(s, 0)}" for s in sorted(set(want) | set(got)))
    verdict.compared(
        f"cases by status ({shown or 'none'})",
        (
            f"status {s}: {want.get(s, 0)} at backup, {got.get(s, 0)} restored"
            for s in sorted(set(want) | set(got))
            if want.get(s, 0) != got.get(s, 0)
        ),
    )
    want_t, got_t = expected["timelines"], actual["timelines"]
    events = sum(t["events"] for t in want_t.values())
    verdict.compared(
        f"timelines ({len(want_t)} cases, {events} events, row hashes)",
        _timeline_problems(want_t, got_t),
    )


def _timeline_problems(want: dict[str, Any], got: dict[str, Any]) -> Iterator[str]:
    for case_id in sorted(set(want) | set(got), key=int):
        a, b = want.get(case_id), got.get(case_id)
        if a is None or b is None:
            yield f"case {case_id}: {'missing after restore' if b is None else 'not in the backup'}"
        elif a["events"] != b["events"]:
            yield f"case {case_id}: {a['events']} timeline events at backup, {b['events']} restored"
        elif a["sha256"] != b["sha256"]:
            yield f"case {case_id}: timeline rows differ (hash {a['sha256'][:12]} != {b['sha256'][:12]})"


def compare_photos(
    keys: list[tuple[str, str]], manifest: dict[str, StoredObject], store: PhotoStore, verdict: Verdict
) -> None:
    """Every object a photo row points at is in the manifest and in the store
    with the manifest's SHA-256."""

    def problems() -> Iterator[str]:
        for photo_id, key in keys:
            listed = manifest.get(key)
            if listed is None:
                yield f"photo {photo_id}: {key} is not in the manifest"
                continue
            data = store.get(key)
            if data is None:
                yield f"photo {photo_id}: {key} is missing from the photo store"
            elif sha256_hex(data) != listed.sha256:
                yield f"photo {photo_id}: {key} differs from the manifest's SHA-256"

    rows = len({photo_id for photo_id, _ in keys})
    verdict.compared(
        f"photos ({rows} rows, {len(keys)} objects against {len(manifest)} in the manifest)", problems()
    )
