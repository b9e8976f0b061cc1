"""The query documents and the answer checks, against the recorded real racing.com responses (no server)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gql import GraphQLRequest
from graphql import build_schema, validate

from racing_platform.paths import REPO_ROOT
from racing_platform.source.client import (
    CLIENT_RETRY_DEADLINE_S,
    DAGSTER_RETRY_DELAY_S,
    _PrintedRequest,
    available_operations,
    load_operation,
    missing_selections,
    retry_after_seconds,
)
from racing_platform.source.config import DEFAULT_TIMEOUT_S, ClientConfig, SecretStr
from racing_platform_tests.source.fixtures_client import FIXTURES_DIR

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "racing-com-api.md"
OPERATIONS = {
    "GetMeetingByDate_CD": ("GetMeetingByDate",),
    "GetMeetingByDateWithRaces_CD": ("GetMeetingByDate",),
    "getRaceNumberList_CD": ("getNoCacheRacesForMeet",),
    "Races": ("getRacesForMeet",),
    "getRaceEntriesForField_CD": ("getRaceForm",),
    "getRaceResults_CD": ("getRaceForm", "GetBettingData"),
    "getRaceEntryItemByHorsePaged_CD": ("GetRaceEntryItemByHorsePaged",),
}


def _field_names(text: str) -> set[str]:
    """Every selected name in a document (fields, not arguments or variables)."""
    body = re.sub(r"#.*", "", text)
    body = re.sub(r"\([^)]*\)", "", body)
    body = re.sub(r"^\s*(query|fragment)\s+\w+(\s+on\s+\w+)?", "", body, flags=re.MULTILINE)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body)) - {"on"}


def test_one_document_per_operation_with_the_real_root_fields():
    assert available_operations() == sorted(OPERATIONS)
    for name, roots in OPERATIONS.items():
        assert load_operation(name).root_fields == roots


def test_every_field_name_appears_in_the_reference_query_documents():
    reference = REFERENCE.read_text(encoding="utf-8")
    section_2 = reference[
        reference.index("## 2. Query documents") : reference.index("## 3. Field dictionary")
    ]
    known = _field_names(section_2)
    for name in OPERATIONS:
        unknown = _field_names(load_operation(name).text) - known - {name}
        assert not unknown, f"{name} selects names not in the reference §2: {sorted(unknown)}"


def test_documents_validate_against_the_simulator_schema():
    schema = build_schema((REPO_ROOT / "racing_platform" / "simulator" / "schema.graphql").read_text())
    for name in OPERATIONS:
        assert validate(schema, load_operation(name).document) == [], name


@pytest.mark.parametrize(
    ("operation", "fixture"),
    [("getRaceNumberList_CD", "races.json"), ("getRaceResults_CD", "raceResult.json")],
)
def test_recorded_real_answers_hold_every_selected_field(operation, fixture):
    body = json.loads((FIXTURES_DIR / fixture).read_text())

    assert missing_selections(load_operation(operation), body["data"]) == []


def test_recorded_field_sample_came_from_an_older_document_and_the_check_says_exactly_what_differs():
    """raceEntries.json was produced without `venue.state` and `formRaceEntries.race`, both of which the
    reference's current getRaceEntriesForField_CD document selects."""
    body = json.loads((FIXTURES_DIR / "raceEntries.json").read_text())
    missing = missing_selections(load_operation("getRaceEntriesForField_CD"), body["data"])

    assert {re.sub(r"\[\d+\]", "[]", path) for path in missing} == {
        "data.getRaceForm.venue.state",
        "data.getRaceForm.formRaceEntries[].race",
    }


def test_dropping_a_nested_field_is_reported_with_its_path():
    body = json.loads((FIXTURES_DIR / "raceResult.json").read_text())
    del body["data"]["getRaceForm"]["formRaceEntries"][3]["barrierNumber"]  # a field from the fragment
    del body["data"]["GetBettingData"]

    missing = missing_selections(load_operation("getRaceResults_CD"), body["data"])

    assert missing == ["data.getRaceForm.formRaceEntries[3].barrierNumber", "data.GetBettingData"]


def test_unknown_operation_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown racing.com operation 'getRaceFrom'.*getRaceResults_CD"):
        load_operation("getRaceFrom")


def test_client_gives_up_before_dagster_retries():
    assert CLIENT_RETRY_DEADLINE_S < DAGSTER_RETRY_DELAY_S
    assert CLIENT_RETRY_DEADLINE_S + DEFAULT_TIMEOUT_S <= DAGSTER_RETRY_DELAY_S, (
        "last attempt's timeout included"
    )


def test_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2026, 3, 7, 4, 0, tzinfo=UTC)
    http_date = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")

    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(http_date, now=now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_key_is_hidden_from_config_repr_and_metadata():
    config = ClientConfig(api_key=SecretStr("da2-secret-value"))

    for text in (repr(config), str(config), json.dumps(config.describe()), f"{config.api_key}"):
        assert "da2-secret-value" not in text
    assert config.describe()["api_key_configured"] is True
    assert config.api_key.get_secret_value() == "da2-secret-value"


def test_env_config_defaults_to_the_local_simulator_without_a_rate_limit(tmp_path):
    local = ClientConfig.from_env({"RACING_COM_ARCHIVE_PATH": str(tmp_path / "a.sqlite")})
    remote = ClientConfig.from_env({"RACING_COM_GRAPHQL_URL": "https://graphql.rmdprod.racing.com/"})
    tuned = ClientConfig.from_env(
        {"RACING_COM_GRAPHQL_URL": "https://x.example/", "RACING_COM_MAX_RPS": "0.5"}
    )

    assert (local.url, local.max_rps, local.api_key) == ("http://127.0.0.1:8642/", None, None)
    assert local.archive_path == tmp_path / "a.sqlite"
    assert remote.max_rps == 1.0 and tuned.max_rps == 0.5
    with pytest.raises(ValueError, match="RACING_COM_RUN_BUDGET must be a whole number"):
        ClientConfig.from_env({"RACING_COM_RUN_BUDGET": "lots"})


@pytest.mark.parametrize("name", available_operations())
def test_the_request_sent_is_the_one_gql_would_print(name):
    """The client prints each document once; the wire payload must stay byte for byte gql's own."""
    operation = load_operation(name)
    variables = {variable: "1" for variable in operation.declared_variables}
    ours = _PrintedRequest(operation, variables).payload
    gqls = GraphQLRequest(operation.document, variable_values=variables, operation_name=name).payload
    assert json.dumps(ours) == json.dumps(gqls)
