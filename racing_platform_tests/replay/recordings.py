"""Which recorded racing.com answer serves which request, including the two answers nobody recorded.

Recorded (../shared/fixtures/racing_com/, reference section 4):

* `races`: `getNoCacheRacesForMeet` of Flemington 2026-03-07 (10 races, result lines only);
* `raceEntries`: `getRaceForm` field of Rosehill Gardens R1 (meet 5193246, FinalFields, 15 runners);
* `raceResult`: `getRaceForm` + `GetBettingData` results of Royal Randwick R3 (meet 5193242, 2026-03-07).

Synthesized, because no recording exists (every value is copied from a recording; nothing is invented
except the two facts the recordings lack, named below):

* `meetings`, the `GetMeetingByDate` listing: one meeting per recorded meet, built from the recordings'
  meeting fields: Flemington from the race list's `meet {venue meetUrl meetUrlSegment}`, `trackCode`,
  `isTrial`/`isJumpOut`, `trackCondition` and race count; Randwick from `getRaceForm.meetCode`,
  `venue {venueName state}`, `isTrial`/`isJumpOut` and its entries' `race.meet.meetUrl` (the date);
  Rosehill from `formRaceEntries[0].meetCode`, `venue.venueName`, `venueCode`, `venueState`,
  `isTrial`/`isJumpOut` and `trackCondition`. Missing facts: the race list names no meet code
  (FLEMINGTON_MEET_CODE, the code the parser tests assume) and the Rosehill field names no date
  (ROSEHILL_DATE, Golden Slipper day: the Saturday after its last price move on 2026-03-18). A field
  no recording has (e.g. Flemington's `state`) is left out, so the projection answers it null.
* `getRacesForMeet(meetCode)`, the platform's whole-meeting call: the Race objects recorded for that
  meet (the race list of the same `Race` type for Flemington; the one `getRaceForm` race for Randwick
  and Rosehill, whose field recording has `status` and its entries' `raceNumber`, copied to the race's
  `raceStatus` and `raceNumber`). Fields those recordings lack come back null through the projection.

A mutation of a race recording reaches both answers built on it (its own operation and
`getRacesForMeet`); the listing is built from the unmutated recordings and is mutated on its own.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from racing_platform_tests.paths import RACING_COM_FIXTURES

RECORDED = ("races", "raceEntries", "raceResult")
SYNTHESIZED_LISTING = "meetings"
FLEMINGTON_MEET_CODE = "5193238"
ROSEHILL_DATE = "2026-03-21"
RESULT_DAY = "2026-03-07"  # Flemington and Royal Randwick
# The date x venue cells whose whole-meeting call the recordings answer with runners.
RANDWICK_CELL = f"{RESULT_DAY}|royal-randwick"
ROSEHILL_CELL = f"{ROSEHILL_DATE}|rosehill-gardens"

Payload = dict[str, Any]
Mutation = Callable[[Payload], Payload]


class NotRecorded(LookupError):
    """No recording answers this root field with these arguments (answered like AppSync's NotFound)."""


@cache
def _fixture_text(name: str) -> str:
    return (RACING_COM_FIXTURES / f"{name}.json").read_text(encoding="utf-8")


def recorded_payload(name: str) -> Payload:
    """A fresh copy of one recorded body ({"data": ...}), safe to edit."""
    return json.loads(_fixture_text(name))


class Recordings:
    """The recorded bodies, each possibly replaced by a test's mutated copy, and the answers built on them."""

    def __init__(self) -> None:
        self._mutations: dict[str, Mutation] = {}

    def mutate(self, name: str, mutation: Mutation) -> None:
        """Serve `mutation(copy of the recording)` instead of recording `name` until `reset()`."""
        if name not in (*RECORDED, SYNTHESIZED_LISTING):
            raise ValueError(f"no recording named {name!r}; known: {', '.join(RECORDED)}, meetings")
        self._mutations[name] = mutation

    def reset(self) -> None:
        self._mutations.clear()

    def payload(self, name: str) -> Payload:
        body = recorded_payload(name) if name in RECORDED else self._listing_payload()
        mutation = self._mutations.get(name)
        return mutation(copy.deepcopy(body)) if mutation else body

    # ------------------------------------------------------------------------------------------- answers

    def answer(self, field: str, arguments: dict[str, Any]) -> tuple[Any, list[dict]]:
        """The (possibly mutated) recorded value of root `field` for `arguments`, and its GraphQL errors.

        Requests are matched on the unmutated recordings' meet codes and race numbers, so a mutation that
        changes them still answers the request the platform makes for the recorded race.
        """
        if field == "GetMeetingByDate":
            listing = self.payload(SYNTHESIZED_LISTING)
            listed = _data(listing).get("GetMeetingByDate")
            if isinstance(listed, list):
                day = arguments.get("date")
                listed = [m for m in listed if not isinstance(m, dict) or m.get("date") == day]
            return listed, _errors(listing)
        meet, asked = str(arguments.get("meetCode")), _int(arguments.get("raceNumber"))
        if field == "getNoCacheRacesForMeet" and meet == FLEMINGTON_MEET_CODE:
            body = self.payload("races")
            return _data(body).get(field), _errors(body)
        if field == "getRacesForMeet" and meet == FLEMINGTON_MEET_CODE:
            body = self.payload("races")
            return _data(body).get("getNoCacheRacesForMeet"), _errors(body)
        for name in ("raceResult", "raceEntries"):
            if _RACE_IDENTITY[name] == (meet, asked) and field in recorded_payload(name)["data"]:
                body = self.payload(name)
                return _data(body).get(field), _errors(body)
            recorded_meet, number = _RACE_IDENTITY[name]
            if recorded_meet == meet and field == "getRacesForMeet":
                body = self.payload(name)
                race = _data(body).get("getRaceForm")
                return (None if race is None else [_as_listed_race(race, number)]), _errors(body)
        raise NotRecorded(f"{field}({json.dumps(arguments, sort_keys=True)}) was not recorded")

    def _listing_payload(self) -> Payload:
        """Built from the unmutated recordings: mutate `meetings` to change what the listing says."""
        return {
            "data": {
                "GetMeetingByDate": [
                    flemington_meeting(recorded_payload("races")),
                    randwick_meeting(recorded_payload("raceResult")),
                    rosehill_meeting(recorded_payload("raceEntries")),
                ]
            }
        }


def _as_listed_race(race: Any, number: int | None) -> Any:
    """A recorded getRaceForm race as a race list holds it: the field document names the race's status
    `status` (race lists: `raceStatus`, reference §3) and its `number` only on the (recorded) entries."""
    if not isinstance(race, dict):
        return race
    listed = dict(race)
    if "raceStatus" not in listed and "status" in listed:
        listed["raceStatus"] = listed["status"]
    if "raceNumber" not in listed:
        listed["raceNumber"] = number
    return listed


def _data(body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, dict) else {}


def _errors(body: Any) -> list:
    return (body.get("errors") or []) if isinstance(body, dict) else []


# --------------------------------------------------------------------------------------------- the listing


def flemington_meeting(races_body: Payload) -> dict[str, Any]:
    races = races_body["data"]["getNoCacheRacesForMeet"]
    first = races[0]
    meet = first["meet"]
    return {
        "id": FLEMINGTON_MEET_CODE,
        "venue": meet["venue"],
        "venueName": meet["venue"],
        "venueCode": first["trackCode"],
        "date": meet["meetUrlSegment"].split("/")[0],
        "isTrial": first["isTrial"],
        "isJumpOut": first["isJumpOut"],
        "meetUrl": meet["meetUrl"],
        "racesCount": len(races),
        "trackCondition": first["trackCondition"],
    }


def randwick_meeting(result_body: Payload) -> dict[str, Any]:
    race = result_body["data"]["getRaceForm"]
    meet_url = next(
        e["race"]["meet"]["meetUrl"] for e in race["formRaceEntries"] if (e.get("race") or {}).get("meet")
    )
    return {
        "id": race["meetCode"],
        "venue": race["venue"]["venueName"],
        "venueName": race["venue"]["venueName"],
        "date": meet_url.rstrip("/").split("/")[-2],
        "state": race["venue"]["state"],
        "isTrial": race["isTrial"],
        "isJumpOut": race["isJumpOut"],
        "meetUrl": meet_url,
        "racesCount": 1,
    }


def rosehill_meeting(field_body: Payload) -> dict[str, Any]:
    race = field_body["data"]["getRaceForm"]
    return {
        "id": race["formRaceEntries"][0]["meetCode"],
        "venue": race["venue"]["venueName"],
        "venueName": race["venue"]["venueName"],
        "venueCode": race["venueCode"],
        "date": ROSEHILL_DATE,
        "state": race["venueState"],
        "isTrial": race["isTrial"],
        "isJumpOut": race["isJumpOut"],
        "racesCount": 1,
        "trackCondition": race["trackCondition"],
    }


def _meet_of_race(race: Any) -> str | None:
    if not isinstance(race, dict):
        return None
    if race.get("meetCode") is not None:
        return str(race["meetCode"])
    entries = race.get("formRaceEntries")
    first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
    return str(first["meetCode"]) if first.get("meetCode") is not None else None


def _race_number(race: Any) -> int | None:
    if not isinstance(race, dict):
        return None
    if race.get("raceNumber") is not None:
        return _int(race["raceNumber"])
    entries = race.get("formRaceEntries")
    first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], dict) else {}
    return _int(first.get("raceNumber"))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# The request each recorded race answers: (meet code, race number), from the unmutated recordings.
_RACE_IDENTITY = {
    name: (
        _meet_of_race(recorded_payload(name)["data"]["getRaceForm"]),
        _race_number(recorded_payload(name)["data"]["getRaceForm"]),
    )
    for name in ("raceResult", "raceEntries")
}
