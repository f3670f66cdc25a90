"""Rankings for a fixture month, checked against numbers worked out by hand.

September 2025 ends with an adjusted working Sunday (28th) and the National
Day holiday (1–8 October), so the deadlines below only come out right on the
official calendar."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from app.clock import FixedClock
from handlers.supervision.escalation import sweep
from tests.helpers import file_case, login, make_staff, upload_photo

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def test_a_month_ranked_by_hand(client: Any, services: Any) -> None:
    clock = FixedClock(at(2025, 9, 26, 10, 0))
    services.clock = clock
    resident = login(client, "rank-res")
    law = make_staff(client, services, "综合执法局", "handler", "rank-law")
    supervisor = make_staff(client, services, "住建局", "supervisor", "rank-sup")

    def move(moment: datetime) -> None:
        clock.at = moment

    def resolve(case: dict[str, Any]) -> None:
        photo = upload_photo(client, law)["id"]
        answer = client.post(
            f"/api/v1/staff/cases/{case['id']}/resolve",
            json={"note": "已处理", "photo_ids": [photo]},
            headers=law,
        )
        assert answer.status_code == 200

    # A: Friday 26th 10:00. 1wd falls on the adjusted working Sunday 28th 10:00,
    # so accepting on Monday is late (a Monday-to-Friday calendar would say on time).
    a = file_case(client, resident)
    assert a["accept_due_at"] == "2025-09-28T10:00:00+08:00"
    # B: the working Sunday itself, due Monday 10:00; accepted 09:30, then returned.
    move(at(2025, 9, 28, 10, 0))
    b = file_case(client, resident)
    move(at(2025, 9, 29, 8, 0))
    assert sweep(services.context()) == 1  # A's accept deadline passed on the working Sunday
    move(at(2025, 9, 29, 9, 0))
    client.post(f"/api/v1/staff/cases/{a['id']}/accept", json={}, headers=law)
    move(at(2025, 9, 29, 9, 30))
    client.post(f"/api/v1/staff/cases/{b['id']}/accept", json={}, headers=law)
    move(at(2025, 9, 29, 10, 30))
    client.post(f"/api/v1/staff/cases/{b['id']}/return", json={"reason": "不属于本部门"}, headers=law)
    # C: the eve of National Day; the holiday does not count, due 9 October.
    move(at(2025, 9, 30, 16, 0))
    c = file_case(client, resident)
    assert c["accept_due_at"] == "2025-10-09T16:00:00+08:00"
    assert c["resolve_due_at"] == "2025-10-14T16:00:00+08:00"  # 9, 10, 11 (adjusted Saturday), 13, 14
    move(at(2025, 10, 8, 12, 0))
    client.post(f"/api/v1/staff/cases/{c['id']}/accept", json={}, headers=law)
    # A is resolved an hour after its deadline (10 October 10:00); C in time.
    move(at(2025, 10, 10, 11, 0))
    resolve(a)
    move(at(2025, 10, 14, 15, 0))
    resolve(c)
    client.post(f"/api/v1/cases/{a['id']}/rating", json={"score": 3}, headers=resident)
    client.post(f"/api/v1/cases/{c['id']}/rating", json={"score": 5}, headers=resident)
    move(at(2025, 10, 20, 9, 0))

    data = client.get("/api/v1/supervision/rankings?period=2025-09", headers=supervisor).get_json()
    law_row = next(r for r in data["departments"] if r["name"] == "综合执法局")
    assert law_row["received"] == 3
    assert law_row["accepted_on_time_pct"] == 66.7  # B and C on time, A late
    assert law_row["resolved_on_time_pct"] == 50.0  # C on time, A late; B was returned
    assert law_row["returned"] == 1 and law_row["returned_pct"] == 33.3
    assert law_row["satisfaction"] == 4.0
    # 0.25*66.7 + 0.35*50 + 0.25*(4.0/5*100) - 0.075*33.3 - 0.075*0
    assert law_row["score"] == pytest.approx(51.68, abs=0.01)
    assert law_row["rank"] == 1
    assert len(data["departments"]) == 9 and all(r["score"] is None for r in data["departments"][1:])
    town = next(r for r in data["townships"] if r["name"] == "杨和镇")
    assert town["received"] == 3 and town["returned"] == 0
    assert town["score"] == pytest.approx(0.25 * 66.7 + 0.35 * 50 + 0.25 * 80, abs=0.01)
    assert len(data["townships"]) == 7
    # The quarter and the year hold the same cases; October none of them.
    quarter = client.get("/api/v1/supervision/rankings?period=2025-Q3", headers=supervisor).get_json()
    assert next(r for r in quarter["departments"] if r["name"] == "综合执法局")["received"] == 3
    october = client.get("/api/v1/supervision/rankings?period=2025-10", headers=supervisor).get_json()
    assert next(r for r in october["departments"] if r["name"] == "综合执法局")["received"] == 0
    assert client.get("/api/v1/supervision/rankings?period=2025-13", headers=supervisor).status_code == 422
    assert client.get("/api/v1/supervision/rankings?period=2025-09", headers=law).status_code == 403

    workbook = load_workbook(
        io.BytesIO(client.get("/api/v1/supervision/rankings.xlsx?period=2025-09", headers=supervisor).data)
    )
    assert workbook.sheetnames == ["部门排名", "乡镇(街道)排名", "物业企业"]
    assert workbook["部门排名"]["B2"].value == "综合执法局"
    bulletin = client.get("/api/v1/supervision/bulletins/2025-09", headers=supervisor)
    assert bulletin.status_code == 200 and bulletin.mimetype == "text/html"
    html = bulletin.get_data(as_text=True)
    assert "2025年9月" in html and "综合执法局" in html and a["number"] in html
    book = load_workbook(
        io.BytesIO(client.get("/api/v1/supervision/bulletins/2025-09.xlsx", headers=supervisor).data)
    )
    assert "超期工单" in book.sheetnames
