"""Moving photo bytes between stores and taking stock of one: the move from
the local folder to S3 and the backup's manifest both use these."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from handlers.ports import PhotoStore


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


def inventory(store: PhotoStore) -> Iterator[StoredObject]:
    """Every object of the store with its size and SHA-256, read from the bytes."""
    for key in store.keys():
        data = store.get(key)
        if data is not None:  # deleted while we listed
            yield StoredObject(key, len(data), sha256_hex(data))


@dataclass
class CopyReport:
    copied: int = 0
    already_there: int = 0
    mismatched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.failed)

    @property
    def total(self) -> int:
        return self.copied + self.already_there + len(self.mismatched) + len(self.failed)


def copy_all(
    source: PhotoStore,
    target: PhotoStore,
    progress: Callable[[CopyReport], None] | None = None,
    every: int = 500,
) -> CopyReport:
    """Copy each key of ``source`` missing from ``target`` and read the copy back
    to check its SHA-256. A key already in the target with the same bytes is
    skipped, so a run can be repeated or resumed after an interruption; one with
    other bytes is reported, never overwritten."""
    report = CopyReport()
    for key in source.keys():
        data = source.get(key)
        if data is None:
            continue
        _copy_one(key, data, target, report)
        if progress is not None and report.total % every == 0:
            progress(report)
    return report


def _copy_one(key: str, data: bytes, target: PhotoStore, report: CopyReport) -> None:
    digest = sha256_hex(data)
    try:
        existing = target.get(key)
        if existing is not None:
            if sha256_hex(existing) == digest:
                report.already_there += 1
            else:
                report.mismatched.append(key)
            return
        target.put(key, data)
        copy = target.get(key)
    except Exception as exc:  # one key's failure must not stop the run
        report.failed.append(f"{key}: {exc}")
        return
    if copy is None or sha256_hex(copy) != digest:
        report.failed.append(f"{key}: the copy's SHA-256 differs")
        return
    report.copied += 1
