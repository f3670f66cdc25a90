"""Writes docs/samples/communities-sample.xlsx: 50 fictional communities across
the seven townships of the shipped county file, served by its four fictional
demo companies (two have none yet), in the columns the import takes.

    .venv/bin/python scripts/make_sample_communities.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.xlsx import workbook  # noqa: E402
from handlers.admin.imports import COLUMNS  # noqa: E402
from routing import load_config  # noqa: E402

NAMES = "和平 金色 阳光 锦绣 翠湖 滨河 望月 紫荆 春晖 银杏 明珠 康乐 朝阳 锦华 怡景 绿洲 星河 清泉 枫林 书香".split()
KINDS = ("小区", "花园", "家园", "雅苑", "嘉苑")
ROADS = ("建设路", "兴业街", "文化路", "振兴路", "团结路", "宁和街", "新华路")


def rows() -> list[list[object]]:
    county = load_config(ROOT / "config" / "county.yaml")
    towns = [t.name for t in county.townships]
    companies = [c.name for c in county.property_companies]
    out: list[list[object]] = []
    for i in range(50):
        name = NAMES[i % len(NAMES)] + KINDS[(i // len(NAMES) + i) % len(KINDS)]
        town = towns[i % len(towns)]
        company = "" if i % 17 == 16 else companies[i % len(companies)]
        lat = round(38.20 + (i % 10) * 0.013, 5)
        lng = round(106.18 + (i // 10) * 0.021, 5)
        out.append([name, town, f"{town}{ROADS[i % len(ROADS)]}{10 + i * 3}号（虚构）", company, lat, lng])
    assert len({(r[0], r[1]) for r in out}) == 50
    return out


if __name__ == "__main__":
    target = ROOT / "docs" / "samples" / "communities-sample.xlsx"
    target.write_bytes(workbook([("小区", COLUMNS, rows())]))
    print(f"{target}: {len(rows())} communities")
