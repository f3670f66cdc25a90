"""Excel exports: Chinese headers, a frozen header row, widths that fit."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]
MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How an export is described in the OpenAPI document.
XLSX = {
    "description": "Excel 工作簿",
    "content": {MIMETYPE: {"schema": {"type": "string", "format": "binary"}}},
}


# OWASP's CSV-injection rule: text starting with one of these could be read
# as a formula (=HYPERLINK(...) leaking the next cell, say).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: Cell) -> None:
    """A cell whose text could be read as a formula is written as text: a
    string cell, marked with Excel's quote prefix so editing keeps it text."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    # A CJK character takes two columns.
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _printable(value: Any) -> Any:
    """Text without the control characters a workbook cannot hold (a name
    typed with one would otherwise make the whole export fail)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def workbook(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, headers, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.append(list(headers))
        widths = [_width(h) for h in headers]
        for row in rows:
            values = [_printable(v) for v in row]
            sheet.append(values)
            for cell in sheet[sheet.max_row]:
                as_text(cell)
            widths = [max(w, _width(v)) for w, v in zip(widths, values, strict=False)]
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(horizontal="center", vertical="center")
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, width + 2))
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(data: bytes, filename: str) -> Response:
    from urllib.parse import quote

    response = Response(data, mimetype=MIMETYPE)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


MAX_UNPACKED = 100 * 1024 * 1024


class NotASpreadsheet(ValueError):
    """The bytes are not an .xlsx workbook openpyxl can read."""


def read_rows(data: bytes, max_rows: int) -> list[tuple[int, list[Any]]]:
    """The first sheet's rows as (row number, cell values), at most
    ``max_rows`` of them (read lazily, so a huge file is not loaded whole)."""
    from zipfile import BadZipFile, ZipFile

    from openpyxl import load_workbook

    try:
        with ZipFile(io.BytesIO(data)) as archive:
            # A small upload that unpacks to gigabytes is refused before it is read.
            if sum(item.file_size for item in archive.infolist()) > MAX_UNPACKED:
                raise NotASpreadsheet("unpacks to more than the limit")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise NotASpreadsheet(str(exc)) from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            return []
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(rows) >= max_rows:
                break
            rows.append((number, list(values)))
        return rows
    finally:
        book.close()
