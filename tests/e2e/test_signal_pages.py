"""A signal's page as a person reaches it in Chromium: from the decision that produced it."""

import pytest
from playwright.sync_api import Page, expect
from rest_framework.test import APIClient
from ulid import ULID

from agents.services import agent_create
from tests.decisions.test_api import URL, a_decision


def _agent(agent_id: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_create(agent_id=agent_id).token}")
    return client


@pytest.fixture
def whale_alert(transactional_db) -> dict[str, str]:
    """A hunter's decision producing a signal that the risk manager has acknowledged and the
    trader has not yet read."""
    suffix = str(ULID())[-6:].lower()
    hunter, risk, trader = f"e2e-h-{suffix}", f"e2e-r-{suffix}", f"e2e-t-{suffix}"
    hunter_client, risk_client = _agent(hunter), _agent(risk)
    _agent(trader)
    decision = a_decision(hunter, reasoning={"summary": "whale inflow 3x average"})
    signal_id = str(ULID())
    decision["links"] = {"produced_signals": [signal_id]}
    assert hunter_client.post(URL, decision, format="json").status_code == 201
    signal = {
        "signal_id": signal_id,
        "type": "WHALE_ACTIVITY",
        "confidence": 0.85,
        "payload": {"whale_btc": 1250, "exchange": "binance", "direction": "inflow"},
        "target_agents": [risk, trader],
        "decision_id": decision["decision_id"],
    }
    assert hunter_client.post("/api/v1/signals/", signal, format="json").status_code == 201
    risk_client.post("/api/v1/signals/ack/", {"signal_ids": [signal_id]}, format="json")
    return {"decision_id": decision["decision_id"], "signal_id": signal_id, "risk": risk, "trader": trader}


def test_a_decision_links_to_its_signal_and_its_deliveries(logged_in: Page, whale_alert):
    logged_in.goto(f"/decisions/{whale_alert['decision_id']}/")
    logged_in.locator("section.panel:has(h2:text-is('Related'))").get_by_role(
        "link", name=whale_alert["signal_id"]
    ).click()

    logged_in.wait_for_url(f"**/signals/{whale_alert['signal_id']}/")
    expect(logged_in.locator("h1")).to_contain_text("WHALE_ACTIVITY")
    payload = logged_in.locator("section.panel:has(h2:text-is('Payload'))")
    expect(payload.locator("dt").first).to_have_text("Whale btc")
    deliveries = logged_in.locator("table.deliveries tbody tr")
    expect(deliveries.filter(has_text=whale_alert["risk"]).locator(".pill")).to_have_text("acknowledged")
    expect(deliveries.filter(has_text=whale_alert["trader"]).locator(".pill")).to_have_text("waiting")
    producer = logged_in.get_by_role("link", name=whale_alert["decision_id"])
    expect(producer).to_have_attribute("href", f"/decisions/{whale_alert['decision_id']}/")
