"""The exchanges' trading holidays as shipped data: one JSON file per exchange and year, naming its source.

Each file lists the days the exchange is `closed`, the days it opens late (`late_opens`: MCX's evening-only
sessions on exchange holidays) and its `special_sessions` (Muhurat trading), for each segment it covers
(NSE's file covers NSE, NFO and CDS). A file whose exchange had not published its list yet says so
(`status: provisional`). The deployment carries the same days as one compact string (`encode`/`decode`),
so a Lambda's configuration shows the calendar it runs on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time
from importlib import resources
from typing import Any

from trading.errors import ValidationError


@dataclass(frozen=True)
class SpecialSession:
    """A session on a day the market is otherwise closed (or at other hours): Muhurat trading."""

    day: date
    exchanges: frozenset[str]
    opens: time
    closes: time


@dataclass(frozen=True)
class HolidayFile:
    """One exchange's year, as its file says."""

    exchange: str
    year: int
    status: str
    source: dict[str, Any]
    closed: dict[str, frozenset[date]]  # segment -> days
    late_opens: dict[str, dict[date, time]]  # segment -> day -> opening time


@dataclass(frozen=True)
class Closures:
    """Per segment (exchange code): the days closed and the days opening late."""

    closed: dict[str, frozenset[date]]
    late_opens: dict[str, dict[date, time]]
    special_sessions: tuple[SpecialSession, ...] = ()


def _parse(data: dict[str, Any]) -> HolidayFile:
    segments = list(data["segments"])
    closed = frozenset(date.fromisoformat(row["date"]) for row in data["closed"])
    late = {date.fromisoformat(row["date"]): time.fromisoformat(row["opens"]) for row in data.get("late_opens", [])}
    for day in closed | set(late):
        if day.year != data["year"]:
            raise ValueError(f"{data['exchange']} {data['year']}: {day} is not in the file's year")
    return HolidayFile(
        exchange=data["exchange"],
        year=int(data["year"]),
        status=data["status"],
        source=dict(data["source"]),
        closed={segment: closed for segment in segments},
        late_opens={segment: dict(late) for segment in segments},
    )


def shipped_files() -> list[HolidayFile]:
    """Every holiday file in this package, sorted by exchange and year."""
    folder = resources.files(__name__)
    files = [entry for entry in folder.iterdir() if entry.name.endswith(".json")]
    return sorted((_parse(json.loads(entry.read_text(encoding="utf-8"))) for entry in files), key=_order)


def _order(file: HolidayFile) -> tuple[str, int]:
    return file.exchange, file.year


def shipped_closures() -> Closures:
    """The closures of every shipped file, merged per segment."""
    closed: dict[str, set[date]] = {}
    late: dict[str, dict[date, time]] = {}
    for file in shipped_files():
        for segment, days in file.closed.items():
            closed.setdefault(segment, set()).update(days)
        for segment, opens in file.late_opens.items():
            late.setdefault(segment, {}).update(opens)
    return Closures({s: frozenset(d) for s, d in closed.items()}, late)


def encode(closures: Closures) -> str:
    """One line for an environment variable: `NSE,NFO:2026-01-26,...;MCX:2026-01-26,2026-03-03@17:00`.

    Segments with the same days share one group; a day with `@HH:MM` opens late at that time.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for segment in sorted(set(closures.closed) | set(closures.late_opens)):
        days = [d.isoformat() for d in sorted(closures.closed.get(segment, frozenset()))]
        late = closures.late_opens.get(segment, {})
        days += [f"{d.isoformat()}@{t:%H:%M}" for d, t in sorted(late.items())]
        groups.setdefault(tuple(sorted(days)), []).append(segment)
    return ";".join(f"{','.join(segments)}:{','.join(days)}" for days, segments in groups.items())


def decode(text: str) -> Closures:
    """The closures `encode` wrote.

    Raises
    ------
    ValidationError
        A group without `:` or a day that is not an ISO date (with an optional `@HH:MM`).
    """
    closed: dict[str, frozenset[date]] = {}
    late: dict[str, dict[date, time]] = {}
    for group in filter(None, (part.strip() for part in text.split(";"))):
        segments, sep, days = group.partition(":")
        if not sep:
            raise ValidationError(f"market calendar group {group!r} needs SEGMENTS:DAYS")
        full: set[date] = set()
        opens: dict[date, time] = {}
        try:
            for item in filter(None, (d.strip() for d in days.split(","))):
                day, at, when = item.partition("@")
                if at:
                    opens[date.fromisoformat(day)] = time.fromisoformat(when)
                else:
                    full.add(date.fromisoformat(day))
        except ValueError as exc:
            raise ValidationError(f"market calendar group {group!r}: {exc}") from exc
        for segment in filter(None, (s.strip() for s in segments.split(","))):
            closed[segment] = frozenset(full)
            late[segment] = dict(opens)
    return Closures(closed, late)


def parse_special_sessions(text: str) -> tuple[SpecialSession, ...]:
    """`2026-11-08 NSE,NFO 18:00-19:00; 2026-11-08 MCX 18:00-19:15` as special sessions.

    Raises
    ------
    ValidationError
        An entry not of the form `YYYY-MM-DD EXCHANGES HH:MM-HH:MM`, or one that closes before it opens.
    """
    sessions = []
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        try:
            day, exchanges, hours = entry.split()
            opens, closes = (time.fromisoformat(t) for t in hours.split("-"))
            session = SpecialSession(
                date.fromisoformat(day), frozenset(e.strip() for e in exchanges.split(",") if e.strip()), opens, closes
            )
        except ValueError as exc:
            raise ValidationError(f"special session {entry!r} is not 'YYYY-MM-DD EXCHANGES HH:MM-HH:MM'") from exc
        if session.closes <= session.opens or not session.exchanges:
            raise ValidationError(f"special session {entry!r} must name exchanges and close after it opens")
        sessions.append(session)
    return tuple(sessions)
