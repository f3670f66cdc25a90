"""Reading GeoReport v2 arguments: a POSTed service request (form-encoded,
``attribute[community]``) and the filters of GET requests. Empty arguments
count as absent, as the spec says. Problems are GeoReport errors in English,
every one of them in one answer."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handlers.cases.submit import NewCase
from handlers.open311 import RequestFilter

# Our names of NewCase's fields, as a GeoReport client sends them.
ARGUMENT = {
    "category": "service_code",
    "community_id": "attribute[community]",
    "location_text": "address_string",
    "lng": "long",
}
_IDS = re.compile(r"[0-9]{1,10}")
FIRST_YEAR, LAST_YEAR = 2000, 2100


class Problems(Exception):
    """GeoReport errors: (code, description) pairs, every one found."""

    def __init__(self, status: int, problems: list[str]):
        super().__init__("; ".join(problems))
        self.status = status
        self.problems = problems


def _english(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = err.get("loc") or ()
        name = ARGUMENT.get(str(loc[0]), str(loc[0])) if loc else ""
        message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
        out.append(f"{name}: {message}" if name else message)
    return out


class ServiceRequestForm(BaseModel):
    """POST requests.[format]: what the spec allows; personal fields (email,
    names, phone, device and account ids) are not read, so never stored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)

    service_code: str = Field(min_length=1, max_length=64)
    community: str = Field(alias="attribute[community]", pattern=r"^[0-9]{1,10}$")
    description: str = ""
    lat: float | None = None
    long: float | None = None
    address_string: str = ""
    media_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://[^\s<>\"]+$")

    @model_validator(mode="after")
    def _a_location(self) -> ServiceRequestForm:
        if (self.lat is None) != (self.long is None):
            raise ValueError("lat and long must be sent together")
        if self.lat is None and not self.address_string:
            raise ValueError("a location is required: lat and long, or address_string")
        return self

    def command(self) -> NewCase:
        try:
            return NewCase.model_validate(
                {
                    "category": self.service_code,
                    "community_id": int(self.community),
                    "description": self.description,
                    "location_text": self.address_string,
                    "lat": self.lat,
                    "lng": self.long,
                }
            )
        except ValidationError as exc:
            raise Problems(400, _english(exc)) from exc


def _given(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if v.strip()}


def service_request(form: dict[str, str]) -> tuple[NewCase, str | None]:
    """The command to file and the media link, or Problems."""
    try:
        parsed = ServiceRequestForm.model_validate(_given(form))
    except ValidationError as exc:
        raise Problems(400, _english(exc)) from exc
    return parsed.command(), parsed.media_url


def _when(name: str, text: str, tz: ZoneInfo) -> datetime:
    """A w3 date or date-time; without an offset it is read in the county's time."""
    try:
        if "T" not in text:
            when = datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
        else:
            when = datetime.fromisoformat(text)
            when = when if when.tzinfo else when.replace(tzinfo=tz)
    except ValueError as exc:
        raise Problems(400, [f"{name}: use the w3 format, such as 2026-06-01T00:00:00Z"]) from exc
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise Problems(400, [f"{name}: the year must be between {FIRST_YEAR} and {LAST_YEAR}"])
    return when


def request_id(text: str) -> int | None:
    """A service_request_id: ASCII digits within the ids' range, else None."""
    return int(text) if _IDS.fullmatch(text) and int(text) < 2**31 else None


def _list(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def request_filter(args: dict[str, str], tz: ZoneInfo) -> RequestFilter:
    """GET requests.[format]: service_request_id, service_code, start_date,
    end_date, status (each but the dates may be a comma-separated list)."""
    args = _given(args)
    ids = _list(args.get("service_request_id"))
    numbers = [request_id(i) for i in ids or []]
    if None in numbers:
        raise Problems(400, ["service_request_id: a comma-separated list of request ids"])
    statuses = _list(args.get("status"))
    if statuses is not None and not set(statuses) <= {"open", "closed"}:
        raise Problems(400, ["status: open, closed, or both separated by a comma"])
    return RequestFilter(
        ids=[n for n in numbers if n is not None] if ids is not None else None,
        service_codes=_list(args.get("service_code")),
        start=_when("start_date", args["start_date"], tz) if "start_date" in args else None,
        end=_when("end_date", args["end_date"], tz) if "end_date" in args else None,
        open=None if statuses is None or len(set(statuses)) == 2 else statuses[0] == "open",
    )
