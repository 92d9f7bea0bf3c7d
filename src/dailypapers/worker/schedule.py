"""When jobs are due: at a time of day on some weekdays in a time zone, or every N seconds.

A schedule maps "now" to its latest slot (the newest scheduled time not after now) and to the
next one. Slots are naive UTC datetimes, as the store keeps them, and are the same on every
machine, so two workers scheduling at once compute the same slot and the store's unique
(job, slot) pair keeps one run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from dailypapers.settings import WEEKDAYS

EPOCH = datetime(2000, 1, 1)


class Schedule(Protocol):
    def latest(self, now: datetime) -> datetime:
        """The newest slot not after ``now`` (naive UTC)."""

    def following(self, now: datetime) -> datetime:
        """The first slot after ``now`` (naive UTC)."""

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Every:
    """Every ``seconds``, on a grid from 2000-01-01 so all workers agree on the slots."""

    seconds: float

    def latest(self, now: datetime) -> datetime:
        steps = (now - EPOCH).total_seconds() // self.seconds
        return EPOCH + timedelta(seconds=steps * self.seconds)

    def following(self, now: datetime) -> datetime:
        return self.latest(now) + timedelta(seconds=self.seconds)

    def describe(self) -> str:
        return f"every {self.seconds:g} s"


@dataclass(frozen=True)
class Weekly:
    """At ``at`` local time in ``zone`` on each of ``days`` (``mon`` ... ``sun``)."""

    days: tuple[str, ...]
    at: time
    zone: str

    @classmethod
    def parse(cls, days: tuple[str, ...], at: str, zone: str) -> Weekly:
        hours, minutes = at.split(":")
        return cls(days, time(int(hours), int(minutes)), zone)

    def _slot_on(self, day: date) -> datetime | None:
        if WEEKDAYS[day.weekday()] not in self.days:
            return None
        local = datetime.combine(day, self.at, ZoneInfo(self.zone))
        return local.astimezone(UTC).replace(tzinfo=None)

    def _local_day(self, now: datetime) -> date:
        return now.replace(tzinfo=UTC).astimezone(ZoneInfo(self.zone)).date()

    def latest(self, now: datetime) -> datetime:
        today = self._local_day(now)
        for back in range(8):
            slot = self._slot_on(today - timedelta(days=back))
            if slot is not None and slot <= now:
                return slot
        raise AssertionError("a weekly schedule has a slot in any 8 days")

    def following(self, now: datetime) -> datetime:
        today = self._local_day(now)
        for ahead in range(9):
            slot = self._slot_on(today + timedelta(days=ahead))
            if slot is not None and slot > now:
                return slot
        raise AssertionError("a weekly schedule has a slot in any 8 days")

    def describe(self) -> str:
        return f"{','.join(self.days)} at {self.at:%H:%M} {self.zone}"
