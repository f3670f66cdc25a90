"""Communities in and out of a spreadsheet: the columns 小区名称, 乡镇(街道),
地址, 物业公司, 纬度, 经度 (only the first two are required).

An import is all or nothing: every row is checked first and one bad row
means nothing is written; each problem is named with its row number as the
spreadsheet shows it. A row matches an existing community by name within its
township and updates it; otherwise it creates one. Where a column is present
its cells are the truth for 地址 and the coordinates (empty clears them); an
empty 物业公司 keeps the company serving the community. A company is named by
its registered name or its credit code, and a blacklisted one takes no new
community.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Community, Department, PropertyCompany
from handlers.admin.audit import Actor, admin, record_change
from handlers.admin.communities import snapshot, townships
from handlers.context import Context
from handlers.ports import JSONDict
from handlers.property.companies import blacklisted, serve

COLUMNS = ("小区名称", "乡镇(街道)", "地址", "物业公司", "纬度", "经度")
REQUIRED = COLUMNS[:2]
MAX_ROWS = 5000

# A sheet as read: (row number as the spreadsheet shows it, its cells), header first.
Sheet = list[tuple[int, list[object]]]


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    errors: list[RowError]

    @property
    def message(self) -> str:
        shown = "；".join(f"第{e.row}行：{e.message}" for e in self.errors[:5])
        more = f"等 {len(self.errors)} 处" if len(self.errors) > 5 else ""
        return f"导入失败，没有写入任何数据。请修改后重新导入：{shown}{more}"


@dataclass
class _Row:
    number: int
    name: str
    township: Department
    fields: JSONDict  # address, lat, lng: where the sheet has the column
    company: PropertyCompany | None


class _Known:
    """What rows are checked against, read once."""

    def __init__(self, s: Session):
        self.townships = townships(s)
        self.companies = list(s.scalars(select(PropertyCompany)))
        self.communities = {(c.township_id, c.name): c for c in s.scalars(select(Community))}
        self.seen: dict[tuple[int, str], int] = {}

    def company(self, ref: str) -> PropertyCompany | None:
        code = ref.upper()
        return next((c for c in self.companies if ref == c.name or code == c.credit_code), None)


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _coordinate(cell: object, title: str, limit: int) -> float | None:
    if cell is None or _text(cell) == "":
        return None
    try:
        value = float(cell if isinstance(cell, int | float) else _text(cell))
    except ValueError:
        raise ValueError(f"{title}“{_text(cell)}”不是数字") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{title}应在 -{limit} 到 {limit} 之间")
    return value


def _header(cells: list[object]) -> tuple[dict[str, int], list[str]]:
    index: dict[str, int] = {}
    problems = []
    for position, cell in enumerate(cells):
        name = _text(cell)
        if not name:
            continue
        if name not in COLUMNS:
            problems.append(f"不认识的列“{name}”（应为：{'、'.join(COLUMNS)}）")
        elif name in index:
            problems.append(f"列“{name}”重复")
        else:
            index[name] = position
    problems += [f"缺少列“{c}”" for c in REQUIRED if c not in index]
    return index, problems


def _cells(cells: list[object], index: dict[str, int]) -> dict[str, object]:
    return {name: cells[i] if i < len(cells) else None for name, i in index.items()}


def _located(cell: dict[str, object], problems: list[str]) -> JSONDict:
    fields: JSONDict = {}
    if "地址" in cell:
        fields["address"] = _text(cell["地址"])
        if len(fields["address"]) > 200:
            problems.append("地址最多 200 个字")
    if "纬度" in cell or "经度" in cell:
        try:
            fields["lat"] = _coordinate(cell.get("纬度"), "纬度", 90)
            fields["lng"] = _coordinate(cell.get("经度"), "经度", 180)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            if (fields["lat"] is None) != (fields["lng"] is None):
                problems.append("纬度和经度需要同时填写")
    return fields


def _company(
    known: _Known, ref: str, existing: Community | None, problems: list[str]
) -> PropertyCompany | None:
    if not ref:
        return None
    company = known.company(ref)
    if company is None:
        problems.append(f"物业服务企业“{ref}”未登记（请先登记企业，或核对名称）")
    elif existing is None or existing.property_company_id != company.id:
        reason = blacklisted(company)
        if reason:
            problems.append(reason)
    return company


def _row(number: int, cell: dict[str, object], known: _Known) -> tuple[_Row | None, list[str]]:
    problems: list[str] = []
    name, town = _text(cell.get("小区名称")), _text(cell.get("乡镇(街道)"))
    if not name:
        problems.append("缺少小区名称")
    elif len(name) > 128:
        problems.append("小区名称最多 128 个字")
    township = known.townships.get(town)
    if not town:
        problems.append("缺少乡镇(街道)")
    elif township is None:
        problems.append(f"乡镇(街道)“{town}”不存在（应为：{'、'.join(known.townships)}）")
    fields = _located(cell, problems)
    existing = known.communities.get((township.id, name)) if township else None
    company = _company(known, _text(cell.get("物业公司")), existing, problems)
    if township is not None and name:
        first = known.seen.setdefault((township.id, name), number)
        if first != number:
            problems.append(f"与第{first}行重复（同一乡镇(街道)内小区名称不能重复）")
    if problems or township is None:
        return None, problems
    return _Row(number, name, township, fields, company), []


def check_sheet(s: Session, sheet: Sheet) -> tuple[list[_Row], list[RowError]]:
    """Every row checked; the rows to write, or every problem with its row number."""
    if not sheet:
        return [], [RowError(1, f"表格是空的：第 1 行应为表头（{'、'.join(COLUMNS)}）")]
    (header_row, header), body = sheet[0], sheet[1:]
    index, problems = _header(header)
    errors = [RowError(header_row, p) for p in problems]
    if errors:
        return [], errors
    if len(body) > MAX_ROWS:
        return [], [RowError(body[MAX_ROWS][0], f"一次最多导入 {MAX_ROWS} 行，请分批导入")]
    known, rows = _Known(s), []
    for number, cells in body:
        if not any(_text(c) for c in cells):
            continue
        row, problems = _row(number, _cells(cells, index), known)
        errors += [RowError(number, p) for p in problems]
        if row is not None:
            rows.append(row)
    if not rows and not errors:
        errors.append(RowError(header_row + 1, "没有要导入的小区"))
    return rows, errors


def _write(s: Session, row: _Row, existing: Community | None, now: datetime, by: Actor) -> bool:
    """Create or update one community; answers whether anything changed."""
    edited = False
    if existing is None:
        community = Community(name=row.name, township_id=row.township.id, **row.fields)
        s.add(community)
        s.flush()
        s.refresh(community)
        record_change(s, now, by, "community", community.id, "create", None, snapshot(community), "导入")
    else:
        community = existing
        before = {k: getattr(community, k) for k in row.fields}
        edited = before != row.fields
        if edited:
            for key, value in row.fields.items():
                setattr(community, key, value)
            record_change(s, now, by, "community", community.id, "edit", before, dict(row.fields), "导入")
    moved = row.company is not None and community.property_company_id != row.company.id
    if row.company is not None and moved:
        serve(s, community, row.company, now, by)
    return existing is None or moved or edited


def import_communities(ctx: Context, user_id: int | None, sheet: Sheet) -> ImportResult:
    """All rows or none: with any error nothing is written."""
    now = ctx.now()
    with ctx.uow() as uow:
        s = uow.session
        by = admin(s, user_id)
        rows, errors = check_sheet(s, sheet)
        if errors:
            return ImportResult(0, 0, errors)
        created = updated = 0
        existing = {(c.township_id, c.name): c for c in s.scalars(select(Community))}
        for row in rows:
            found = existing.get((row.township.id, row.name))
            changed = _write(s, row, found, now, by)
            created += found is None
            updated += found is not None and changed
        uow.commit()
    return ImportResult(created, updated, [])


def export_rows(ctx: Context, user_id: int | None) -> list[list[object]]:
    """Every community in the import's columns, by township and name."""
    with ctx.uow() as uow:
        s = uow.session
        admin(s, user_id)
        rows = s.scalars(
            select(Community)
            .join(Department, Department.id == Community.township_id)
            .order_by(Department.id, Community.name)
        )
        return [
            [
                c.name,
                c.township.name,
                c.address,
                c.property_company.name if c.property_company else "",
                c.lat,
                c.lng,
            ]
            for c in rows
        ]
