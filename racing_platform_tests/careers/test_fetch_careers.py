"""fetch_careers on a real DuckDB file against the simulator over real HTTP: cached, incremental, safe."""

from __future__ import annotations

import dagster as dg
import pytest

from racing_platform.careers.fetch import fetch_careers
from racing_platform.partitions import Cell


def _stored(careers, horses=None):
    frame = careers.warehouse.query("SELECT * FROM horse_starts ORDER BY horse_code, race_date, entry_id")
    return frame if horses is None else frame[frame["horse_code"].isin(horses)].reset_index(drop=True)


def _full_career(careers, horse: str, now: str) -> set[str]:
    """Every entry the simulator serves for `horse` at `now`, paged to the end."""
    with careers.client(now) as client:
        return {
            item["id"]
            for page in client.horse_career(horse)
            for item in page.data["GetRaceEntryItemByHorsePaged"]
        }


def _pair(careers) -> tuple[Cell, Cell]:
    """A March cell and a September cell of one venue sharing the most horses."""
    march = [c for c in careers.cells if c.meeting_date.month == 3]
    september = [c for c in careers.cells if c.meeting_date.month == 9]
    return max(
        ((a, b) for a in march for b in september if a.venue_slug == b.venue_slug),
        key=lambda pair: len(careers.horses(pair[0]) & careers.horses(pair[1])),
    )


def test_a_cell_fetches_its_horses_whole_careers_once(careers, at_morning_of):
    cell = careers.cells[0]
    now = at_morning_of(cell)
    with careers.client(now) as client:
        outcome = fetch_careers(careers.warehouse, client, [cell])[str(cell)]
    horses = careers.horses(cell)
    metadata = outcome.metadata
    assert metadata["horses_on_card"] == metadata["horses_fetched"] == len(horses) > 0
    assert metadata["horses_up_to_date"] == 0
    assert metadata["pages"] == len(careers.career_requests()) >= len(horses)
    stored = _stored(careers)
    assert set(stored["horse_code"]) <= horses
    assert metadata["starts_fetched"] == metadata["starts_stored"] == len(stored)
    assert (stored["race_date"].dt.date < cell.meeting_date).all()  # only declared results before the day
    fetches = careers.warehouse.query("SELECT * FROM horse_career_fetches")
    assert set(fetches["horse_code"]) == horses and fetches["pages"].sum() == metadata["pages"]
    for horse in list(horses)[:5]:
        assert set(stored.loc[stored["horse_code"] == horse, "entry_id"]) == _full_career(careers, horse, now)
    assert stored["class_rank"].notna().any()  # written through the schema's class_rank macro


def test_a_second_fetch_of_the_same_cell_makes_no_requests(careers, at_morning_of):
    cell = careers.cells[0]
    with careers.client(at_morning_of(cell)) as client:
        fetch_careers(careers.warehouse, client, [cell])
    before = _stored(careers)
    careers.sim.control.clear_requests()
    with careers.client(at_morning_of(cell)) as client:
        outcome = fetch_careers(careers.warehouse, client, [cell])[str(cell)]
        assert client.metrics.requests == 0
    assert careers.career_requests() == []
    assert outcome.metadata["horses_fetched"] == 0
    assert outcome.metadata["horses_up_to_date"] == outcome.metadata["horses_on_card"]
    assert _stored(careers).equals(before)


def test_a_later_cell_refetches_only_stale_horses_and_stops_paging_at_stored_starts(careers, at_morning_of):
    march, september = _pair(careers)
    shared = careers.horses(march) & careers.horses(september)
    assert shared
    with careers.client(at_morning_of(march)) as client:
        fetch_careers(careers.warehouse, client, [march])
    careers.sim.control.clear_requests()
    with careers.client(at_morning_of(september)) as client:
        outcome = fetch_careers(careers.warehouse, client, [september])[str(september)]
    # March's fetch predates September's day: its horses are stale there and refetched, like new ones.
    assert outcome.metadata["horses_fetched"] == len(careers.horses(september))
    fetches = careers.warehouse.query("SELECT horse_code, pages, starts FROM horse_career_fetches")
    pages = dict(zip(fetches["horse_code"], fetches["pages"], strict=True))
    full = {horse: _full_career(careers, horse, at_morning_of(september)) for horse in shared}
    stored = _stored(careers, shared)
    for horse in shared:
        # Paging stopped at the first page reaching a stored start: one page, unless more than ten new
        # starts came in between.
        new = len(full[horse]) - len(
            stored[(stored["horse_code"] == horse) & (stored["race_date"].dt.month <= 2)]
        )
        assert pages[horse] <= max(1, -(-new // 10) + 1)
        assert set(stored.loc[stored["horse_code"] == horse, "entry_id"]) == full[horse]
    assert any(pages[h] == 1 and len(full[h]) > 10 for h in shared), "a long career paged once"


def test_a_malformed_page_fails_naming_cell_horse_and_field_and_leaves_stored_starts(careers, at_morning_of):
    march, september = _pair(careers)
    with careers.client(at_morning_of(march)) as client:
        fetch_careers(careers.warehouse, client, [march])
    before = _stored(careers)
    fetches = careers.warehouse.query("SELECT * FROM horse_career_fetches ORDER BY horse_code")
    horse = sorted(careers.horses(march) & careers.horses(september))[0]
    careers.sim.control.queue_faults(
        [{"kind": "drop_field", "field": "margin"}],
        match={"operation": "getRaceEntryItemByHorsePaged_CD", "variables": {"horseCode": horse}},
    )
    with (
        careers.client(at_morning_of(september), concurrency=1) as client,
        pytest.raises(dg.Failure) as failed,
    ):
        fetch_careers(careers.warehouse, client, [september])
    message = str(failed.value)
    assert f"horse_careers [{september}] horse {horse}" in message
    assert "ResponseShapeError" in message and "margin" in message
    assert _stored(careers).equals(before)
    assert careers.warehouse.query("SELECT * FROM horse_career_fetches ORDER BY horse_code").equals(fetches)


def test_a_refetch_with_fewer_starts_keeps_the_stored_ones(careers, at_morning_of):
    march, september = _pair(careers)
    with careers.client(at_morning_of(september)) as client:
        fetch_careers(careers.warehouse, client, [september])
    before = _stored(careers)
    # The source, asked again at an earlier moment, serves shorter careers: stored starts must stay.
    careers.warehouse.query(
        "UPDATE horse_career_fetches SET fetched_at = TIMESTAMPTZ '2024-01-01 00:00:00+00'"
    )
    with careers.client(at_morning_of(march)) as client:
        fetch_careers(careers.warehouse, client, [september])
    after = _stored(careers)
    assert set(zip(before["horse_code"], before["entry_id"], strict=True)) <= set(
        zip(after["horse_code"], after["entry_id"], strict=True)
    )
    assert len(after) == len(before)
