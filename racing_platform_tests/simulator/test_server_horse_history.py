"""GetRaceEntryItemByHorsePaged over real HTTP: a horse's resulted starts, newest first, paged by key.

Scenarios of the hand-built world (racing_platform_tests/worlds.py) check the visibility rule, scratchings,
trials, abandonments and errors; a generated world checks paging over many horses against the tables.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest
import requests

from racing_platform.simulator.clock import RESULT_DECLARED_AFTER, iso_utc
from racing_platform.simulator.testing import running_simulator
from racing_platform.simulator.world.generator import generate_world
from racing_platform_tests.paths import REFERENCE_DOCUMENTS as DOCUMENTS
from racing_platform_tests.simulator.conftest import floats
from racing_platform_tests.worlds import AFTER_MEETING, LATER, R1_START, RACE_MORNING, horse_code

REFERENCE = (DOCUMENTS / "getRaceEntryItemByHorsePaged_CD.graphql").read_text()
SECOND_FIELD_SET = (DOCUMENTS / "HorseRacesHR.graphql").read_text()
PAGED = """
query P($horseCode: ID!, $limit: Int, $lastEvaluatedKey: String) {
  GetRaceEntryItemByHorsePaged(horseCode: $horseCode, limit: $limit, lastEvaluatedKey: $lastEvaluatedKey) {
    id finish finishAbv raceDate time isTrial race { id date } LastEvaluatedKey
  }
}
"""
FORMATS = {
    "margin": r"\d+(\.\d+)?L",
    "startingPrice": r"\$\d+\.\d\d",
    "weightCarried": r"\d+(\.\d+)?kg",
    "winningTime": r"\d+",
    "finishAbv": r"\d+(st|nd|rd|th)|SCR",
    "race.distance": r"\d+m",
    "race.date": r"\d{4}-\d\d-\d\d",
    "race.trackRating": r"\d+",
    "race.totalPrizeMoney": r"\d+\.\d\d",
    "race.raceTime": r"(\d+:)?\d\d?\.\d\d",
}


def ask(url: str, document: str, variables: dict) -> dict:
    response = requests.post(url, json={"query": document, "variables": variables}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def history(url: str, horse: str, document: str = REFERENCE, **variables) -> list[dict]:
    body = ask(url, document, {"horseCode": horse, **variables})
    assert "errors" not in body, body["errors"]
    return body["data"]["GetRaceEntryItemByHorsePaged"]


def all_pages(url: str, horse: str, limit: int | None = None) -> list[list[dict]]:
    pages, key = [], None
    while True:
        variables = {"lastEvaluatedKey": key} if limit is None else {"limit": limit, "lastEvaluatedKey": key}
        page = history(url, horse, REFERENCE if limit is None else PAGED, **variables)
        pages.append(page)
        keys = {item["LastEvaluatedKey"] for item in page}
        assert len(keys) <= 1, "every item of a page carries the page's key"
        key = keys.pop() if keys else None
        if not key:
            return pages
        assert len(pages) < 100


def get(item: dict, path: str):
    for part in path.split("."):
        item = item[part]
    return item


# ----- the hand-built world ------------------------------------------------------------------------
def test_a_start_appears_only_once_its_result_is_declared(sim):
    h1 = horse_code("H1")
    sim.control.set_clock(RACE_MORNING)
    assert [i["race"]["id"] for i in history(sim.url, h1)] == ["6100011"]
    sim.control.set_clock(pd.Timestamp(R1_START) + RESULT_DECLARED_AFTER - pd.Timedelta(seconds=1))
    assert [i["race"]["id"] for i in history(sim.url, h1)] == ["6100011"], "jumped, not yet declared"
    sim.control.advance(1)
    items = history(sim.url, h1)
    assert [i["race"]["id"] for i in items] == ["6100021", "6100011"], "newest first"
    assert [(i["finish"], i["finishAbv"]) for i in items] == [(1, "1st"), (2, "2nd")]
    assert all(i["LastEvaluatedKey"] is None for i in items), "one page: no key"


def test_a_scratching_is_a_109_scr_line_like_the_races_results(sim):
    sim.control.set_clock(AFTER_MEETING)
    h4 = history(sim.url, horse_code("H4"))
    assert [(i["race"]["id"], i["finish"], i["finishAbv"]) for i in h4] == [
        ("6100021", 109, "SCR"),
        ("6100011", 5, "5th"),
    ]
    scratched = h4[0]
    assert scratched["barrierNumber"] == 0
    assert scratched["margin"] is None and scratched["startingPrice"] is None
    assert scratched["comment"] == "Scratched."
    # the same entry, as getRaceForm shows it after the race
    results = ask(
        sim.url,
        '{ getRaceForm(meetCode: "5100002", raceNumber: 1) { formRaceEntries '
        "{ id finish finishAbv barrierNumber margin startingPrice weightCarried comment } } }",
        {},
    )["data"]["getRaceForm"]["formRaceEntries"]
    in_race = next(e for e in results if e["id"] == scratched["id"])
    assert {k: scratched[k] for k in in_race} == in_race
    emergency = history(sim.url, horse_code("H7"))  # an emergency that never got a start
    assert [(i["race"]["id"], i["finish"]) for i in emergency] == [("6100021", 109), ("6100012", 4)]


def test_form_line_is_the_entry_as_the_results_render_it(sim):
    sim.control.set_clock(AFTER_MEETING)
    line = history(sim.url, horse_code("H1"))[0]
    document = (DOCUMENTS / "getRaceResults_CD.graphql").read_text()
    results = ask(sim.url, document, {"meetCode": "5100002", "raceNumber": 1})["data"]["getRaceForm"]
    entry = next(e for e in results["formRaceEntries"] if e["id"] == line["id"])
    for key in (
        "finish",
        "finishAbv",
        "margin",
        "startingPrice",
        "winningTime",
        "commentStewards",
        "horseName",
        "trainerName",
        "jockeyName",
        "barrierNumber",
        "raceEntryNumber",
        "comment",
    ):
        assert line[key] == entry[key], key
    race = line["race"]
    assert race["id"] == "6100021" and race["date"] == "2026-03-07" and race["distance"] == "1200m"
    assert race["runnersCount"] == 5 and race["raceTime"] == "1:09.45"
    assert race["toEightHundredMetresSeconds"] + race["eightHundredToFourHundredMetresSeconds"] + race[
        "fourHundredToFinishMetresSeconds"
    ] == int(line["winningTime"])


def test_trials_are_form_lines_and_abandoned_races_never_are(sim):
    sim.control.set_clock(LATER)
    trial = history(sim.url, horse_code("H17"))
    assert [(i["race"]["id"], i["race"]["isTrial"], i["startingPrice"]) for i in trial] == [
        ("6100031", 1, None)
    ]
    assert history(sim.url, horse_code("H20")) == [], "its only race was at an abandoned meeting"


def test_unknown_horse_is_an_empty_list_without_error(sim):
    sim.control.set_clock(LATER)
    assert history(sim.url, "9999999") == []
    assert len(history(sim.url, horse_code("H22"), lastEvaluatedKey=None)) == 1, (
        "a null key is the first page"
    )


def test_the_second_field_set_answers_with_racing_com_formats(sim):
    sim.control.set_clock(LATER)
    (line,) = history(sim.url, horse_code("H15"), SECOND_FIELD_SET, pageSize=10)
    assert line["horseCode"] == horse_code("H15") and line["meetCode"] == "5100002"
    assert line["raceNumber"] == 3 and line["raceStatus"] == "Results" and line["finishAbv"] == "1st"
    assert line["isTrial"] == 0 and line["isJumpOut"] == 0 and line["group"] == "ungrouped"
    assert (
        line["trackCondition"] == "Soft" and line["venueName"] == "Flemington" and line["venueAbbr"] == "FLEM"
    )
    assert line["raceDate"] == "2026-03-07" and line["raceDistance"] == "1600m"
    assert line["time"] == line["race"]["time"] == "2026-03-07T02:25:00.000Z"
    assert re.fullmatch(r"\d+\.\d\d", line["totalPrizeMoney"]) and re.fullmatch(
        r"\d+(\.\d)?kg", line["weight"]
    )
    assert line["race"]["meet"]["meetUrl"] == "https://www.racing.com/form/2026-03-07/flemington"
    assert line["horse"] == {
        "id": horse_code("H15"),
        "name": "Test Horse 15",
        "urlSegment": "test-horse-15-5300015",
    }
    assert line["jockey"]["urlSegment"].endswith("-" + line["jockey"]["id"])
    assert line["trainer"]["urlSegment"].endswith("-" + line["trainer"]["id"])


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"limit": 0}, "limit must be at least 1"),
        ({"lastEvaluatedKey": "not json"}, "is not a LastEvaluatedKey"),
        (
            {"lastEvaluatedKey": '{"horseCode":"5300002","raceTime":"2026-03-07T01:15:00.000Z","id":"1"}'},
            "is not a LastEvaluatedKey",
        ),
    ],
)
def test_bad_paging_arguments_are_appsync_errors(sim, variables, message):
    sim.control.set_clock(LATER)
    body = ask(sim.url, PAGED, {"horseCode": horse_code("H1"), **variables})
    assert body["data"] == {"GetRaceEntryItemByHorsePaged": None}
    assert body["errors"][0]["errorType"] == "BadRequestException" and message in body["errors"][0]["message"]


def test_form_lines_carry_no_truth(sim, small_world):
    sim.control.set_clock(LATER)
    true_probs = {round(p, 6) for p in small_world.entries["true_win_prob"].dropna()}
    abilities = {round(a, 6) for a in small_world.horses["ability"]}
    for n in range(1, 26):
        for document in (REFERENCE, SECOND_FIELD_SET):
            body = ask(sim.url, document, {"horseCode": horse_code(f"H{n}")})
            raw = json.dumps(body).lower()
            assert not any(t in raw for t in ("true_win_prob", "truewinprob", '"ability"', '"skill"'))
            assert {round(f, 6) for f in floats(body)} & (true_probs | abilities) == set()


# ----- a generated world -----------------------------------------------------------------------------
GENERATED_END = "2024-07-01T00:00:00Z"


@pytest.fixture(scope="module")
def generated():
    world = generate_world(
        11,
        start=date(2024, 1, 1),
        end=date(2024, 6, 30),
        venues=[
            "flemington",
            "caulfield",
            "moonee-valley",
            "sandown-hillside",
            "geelong",
            "ballarat",
            "bendigo",
            "cranbourne",
            "pakenham",
            "kilmore",
            "seymour",
        ],
    )
    with running_simulator(world, now=GENERATED_END) as sim:
        yield world, sim


def expected_lines(world, horse: str, now: str) -> list[str]:
    """Entry ids of the horse's declared starts at `now`, newest first, from the tables themselves."""
    entries = world.entries[world.entries["horse_code"] == horse]
    races = world.races.set_index("race_code")
    abandoned = world.meetings.set_index("meet_code")["abandoned"]
    start = races.loc[entries["race_code"], "start_time_utc"].to_numpy()
    meeting = races.loc[entries["race_code"], "meet_code"].to_numpy()
    frame = pd.DataFrame({"id": entries["entry_id"].to_numpy(), "start": start, "meet": meeting})
    declared = (frame["start"] + RESULT_DECLARED_AFTER <= pd.Timestamp(now)) & ~abandoned.loc[
        frame["meet"]
    ].to_numpy()
    return frame[declared].sort_values("start", ascending=False)["id"].tolist()


def test_paging_visits_every_declared_start_once_newest_first(generated):
    world, sim = generated
    counts = world.entries["horse_code"].value_counts()
    horses = list(counts.index[:6]) + list(counts.index[counts == 1][:2])
    assert counts.iloc[0] > 10, "the busiest horse needs more than one page of 10"
    for horse in horses:
        expected = expected_lines(world, horse, GENERATED_END)
        for limit in (None, 3):
            pages = all_pages(sim.url, horse, limit)
            ids = [item["id"] for page in pages for item in page]
            assert ids == expected, (horse, limit)
            size = limit or 10
            assert all(len(page) == size for page in pages[:-1]) and len(pages[-1]) <= size
            assert pages[-1] == [] or pages[-1][-1]["LastEvaluatedKey"] is None
            times = [item["race"]["date"] for page in pages for item in page]
            assert times == sorted(times, reverse=True)


def test_a_race_after_the_clock_appears_once_its_result_is_declared(generated):
    world, sim = generated
    horse = world.entries["horse_code"].value_counts().index[0]
    expected = expected_lines(world, horse, GENERATED_END)
    mid = len(expected) // 2
    latest = world.entries.set_index("entry_id").loc[expected[mid], "race_code"]
    start = world.races.set_index("race_code").loc[latest, "start_time_utc"]
    try:
        sim.control.set_clock(iso_utc(start + RESULT_DECLARED_AFTER - pd.Timedelta(seconds=1)))
        before = [i["id"] for page in all_pages(sim.url, horse, 4) for i in page]
        assert before == expected[mid + 1 :], "the race is run but not declared: not a form line yet"
        sim.control.set_clock(iso_utc(start + RESULT_DECLARED_AFTER))
        after = [i["id"] for page in all_pages(sim.url, horse, 4) for i in page]
        assert after == expected[mid:]
        assert all(i["race"]["date"] <= iso_utc(start)[:10] for i in history(sim.url, horse))
    finally:
        sim.control.set_clock(GENERATED_END)


def test_a_page_key_still_continues_after_the_clock_moves_on(generated):
    world, sim = generated
    horse = world.entries["horse_code"].value_counts().index[0]
    expected = expected_lines(world, horse, GENERATED_END)
    start = world.races.set_index("race_code").loc[
        world.entries.set_index("entry_id").loc[expected[2], "race_code"], "start_time_utc"
    ]
    try:
        sim.control.set_clock(iso_utc(start + pd.Timedelta(hours=1)))
        first = history(sim.url, horse, PAGED, limit=2)
        assert [i["id"] for i in first] == expected[2:4]
        sim.control.set_clock(GENERATED_END)  # newer starts are declared meanwhile: they go on top
        rest = all_pages(sim.url, horse, 2)
        following = history(sim.url, horse, PAGED, limit=100, lastEvaluatedKey=first[-1]["LastEvaluatedKey"])
        assert [i["id"] for i in following] == expected[4:]
        assert [i["id"] for page in rest for i in page] == expected
    finally:
        sim.control.set_clock(GENERATED_END)


def test_generated_form_lines_parse_in_racing_com_formats_and_carry_no_truth(generated):
    world, sim = generated
    horses = world.entries["horse_code"].value_counts().index[:30]
    truth = {f"{v:.6f}" for v in world.entries["true_win_prob"].dropna()} | {
        f"{v:.6f}" for v in world.horses[["ability", "distance_pref_m", "going_pref"]].to_numpy().ravel()
    }
    seen = {path: 0 for path in FORMATS}
    for horse in horses:
        for document in (REFERENCE, SECOND_FIELD_SET):
            body = ask(sim.url, document, {"horseCode": horse, "pageSize": 100})
            # racing.com's formats have at most two decimals; a truth value would show its full precision
            precise = {f"{float(x):.6f}" for x in re.findall(r"-?\d+\.\d{3,}", json.dumps(body))}
            assert precise & truth == set(), "a truth value in a form line"
        for item in history(sim.url, horse):
            assert isinstance(item["finish"], int) and (item["finish"] < 100 or item["finish"] == 109)
            for path, pattern in FORMATS.items():
                value = get(item, path)
                if value is not None:
                    assert re.fullmatch(pattern, str(value)), (path, value)
                    seen[path] += 1
            assert item["race"]["class"] and item["race"]["venue"]["venueName"]
            if item["finish"] < 100 and not item["race"]["isTrial"] and not item["race"]["isJumpOut"]:
                assert item["startingPrice"] is not None and item["margin"] is not None
    assert all(seen.values()), seen
