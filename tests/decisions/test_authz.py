"""Who may read and write decisions."""

import pytest
from rest_framework.test import APIClient

from tests.decisions.test_api import URL, a_decision


@pytest.fixture
def stored(as_agent):
    decision = a_decision("market-hunter")
    assert as_agent("market-hunter").post(URL, decision, format="json").status_code == 201
    return decision


def test_without_a_token_the_api_answers_401(db):
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer mst_not-a-real-token")

    response = client.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert "unknown or revoked token" in response.json()["detail"]


def test_a_revoked_token_stops_working(agent_token):
    from agents.services import agent_token_revoke

    token = agent_token("market-hunter")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(URL).status_code == 200

    agent_token_revoke(agent_id="market-hunter")

    assert client.get(URL).status_code == 401


def test_an_agent_cannot_write_as_another_agent(as_agent):
    response = as_agent("risk-manager").post(URL, a_decision("market-hunter"), format="json")

    assert response.status_code == 403
    assert "writes only as itself" in response.json()["detail"]


def test_a_batch_with_one_decision_of_another_agent_is_refused_whole(as_agent):
    mine = a_decision("risk-manager")

    response = as_agent("risk-manager").post(URL, [mine, a_decision("market-hunter")], format="json")

    assert response.status_code == 403
    assert as_agent("risk-manager").get(f"{URL}{mine['decision_id']}/").status_code == 404


def test_an_agent_reads_what_the_team_reads(as_agent, stored):
    assert as_agent("risk-manager").get(f"{URL}{stored['decision_id']}/").status_code == 200


def test_another_agent_cannot_report_the_outcome(as_agent, stored):
    response = as_agent("risk-manager").post(
        f"{URL}{stored['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json"
    )

    assert response.status_code == 403


def test_a_viewer_reads_but_cannot_log_or_correct(as_person, bob, stored):
    viewer = as_person(bob)

    assert viewer.get(URL).status_code == 200
    assert viewer.get(f"{URL}{stored['decision_id']}/").status_code == 200
    assert viewer.post(URL, a_decision("market-hunter"), format="json").status_code == 403
    assert (
        viewer.post(f"{URL}{stored['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json").status_code == 403
    )


def test_an_operator_corrects_outcomes_but_does_not_log_decisions(as_person, alice, stored):
    operator = as_person(alice)

    assert (
        operator.post(f"{URL}{stored['decision_id']}/outcome/", {"status": "FAILURE"}, format="json").status_code == 200
    )
    assert operator.post(URL, a_decision("market-hunter"), format="json").status_code == 403


def test_an_admin_corrects_outcomes(as_person, carol, stored):
    response = as_person(carol).post(f"{URL}{stored['decision_id']}/outcome/", {"status": "SUCCESS"}, format="json")

    assert response.status_code == 200


def test_a_person_without_a_role_sees_nothing(as_person, charlie):
    response = as_person(charlie).get(URL)

    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_are_served_to_the_team(as_person, bob, path):
    response = as_person(bob).get(path)

    assert response.status_code == 200


def test_the_schema_is_valid_openapi_3_1(as_person, bob):
    import yaml

    schema = yaml.safe_load(as_person(bob).get("/api/schema/").content)

    assert schema["openapi"].startswith("3.1")
    assert {
        "/api/v1/decisions/",
        "/api/v1/decisions/{decision_id}/",
        "/api/v1/decisions/{decision_id}/outcome/",
    } <= set(schema["paths"])
