"""The signal pages and the Sankey figure."""

import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from ulid import ULID

from signals import charts
from tests.decisions.test_api import URL, a_decision


def test_the_sankey_links_senders_to_types_to_receivers():
    flows = Counter(
        {
            ("hunter", "WHALE_ACTIVITY", "risk"): 3,
            ("hunter", "WHALE_ACTIVITY", "trader"): 2,
            ("risk", "RISK_ASSESSMENT", "trader"): 1,
        }
    )

    sankey = charts.flow_sankey(flows).data[0]

    labels = list(sankey.node.label)
    links = {
        (labels[s], labels[t]): v
        for s, t, v in zip(sankey.link.source, sankey.link.target, sankey.link.value, strict=True)
    }
    assert links == {
        ("hunter (sends)", "WHALE_ACTIVITY"): 5,
        ("risk (sends)", "RISK_ASSESSMENT"): 1,
        ("WHALE_ACTIVITY", "risk (receives)"): 3,
        ("WHALE_ACTIVITY", "trader (receives)"): 2,
        ("RISK_ASSESSMENT", "trader (receives)"): 1,
    }


@pytest.fixture
def viewer(client, bob):
    client.force_login(bob)
    return client


def test_the_flow_page_and_the_feed_show_published_signals(viewer, as_agent, unique):
    hunter, risk = f"h-{unique[-6:].lower()}", f"r-{unique[-6:].lower()}"
    hunter_client, risk_client = as_agent(hunter), as_agent(risk)
    sent = hunter_client.post(
        "/api/v1/signals/", {"type": "WHALE_ACTIVITY", "confidence": 0.85, "target_agents": [risk]}, format="json"
    )
    risk_client.get("/api/v1/signals/inbox/")

    html = viewer.get("/signals/").content.decode()
    feed = viewer.get("/signals/feed/").content.decode()

    assert 'id="figure-sankey"' in html
    assert f"{hunter} (sends)" in html
    assert sent.status_code == 201
    assert f"{risk}: delivered" in feed
    assert 'hx-trigger="every 5s"' in html


@pytest.fixture
def sent(as_agent, unique) -> dict:
    """A hunter's decision and the signal it produced, to a risk manager (who acknowledged it),
    a trader (who read its inbox) and an executor (who has not yet)."""
    names = {role: f"{role[0]}-{unique[-6:].lower()}" for role in ("hunter", "risk", "trader", "executor")}
    clients = {role: as_agent(agent) for role, agent in names.items()}
    decision = a_decision(names["hunter"])
    signal = {
        "signal_id": str(ULID()),
        "type": "WHALE_ACTIVITY",
        "confidence": 0.85,
        "payload": {"whale_btc": 1250, "exchange": "binance"},
        "target_agents": [names["risk"], names["trader"], names["executor"]],
        "decision_id": decision["decision_id"],
    }
    decision["links"] = {"produced_signals": [signal["signal_id"]]}
    assert clients["hunter"].post(URL, decision, format="json").status_code == 201
    assert clients["hunter"].post("/api/v1/signals/", signal, format="json").status_code == 201
    clients["trader"].get("/api/v1/signals/inbox/")
    clients["risk"].post("/api/v1/signals/ack/", {"signal_ids": [signal["signal_id"]]}, format="json")
    return names | {"signal_id": signal["signal_id"], "decision_id": decision["decision_id"]}


def _delivery_row(html: str, agent: str) -> str:
    return html.split(f'<a href="/agents/{agent}/">{agent}</a>')[1].split("</tr>")[0]


def test_a_viewer_reads_a_signal_with_its_payload_decision_and_deliveries(viewer, sent):
    response = viewer.get(f"/signals/{sent['signal_id']}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="type">WHALE_ACTIVITY</span>' in html
    assert f'<a href="/agents/{sent["hunter"]}/">{sent["hunter"]}</a>' in html
    assert "<dt>Whale btc</dt><dd>1250</dd>" in html
    assert f'<a href="/decisions/{sent["decision_id"]}/">' in html
    assert "left)" in html
    assert ">acknowledged<" in _delivery_row(html, sent["risk"])
    assert ">delivered<" in _delivery_row(html, sent["trader"])
    assert ">waiting<" in _delivery_row(html, sent["executor"])


def test_a_signal_page_needs_a_login(client, db):
    response = client.get(f"/signals/{ULID()}/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("signal_id", [str(ULID()), "not-a-ulid"])
def test_an_unknown_signal_is_a_friendly_404(viewer, signal_id):
    response = viewer.get(f"/signals/{signal_id}/")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_an_expired_signal_still_stored_says_expired(viewer, as_agent, unique):
    hunter, risk = f"h-{unique[-6:].lower()}", f"r-{unique[-6:].lower()}"
    as_agent(risk)
    body = {"type": "WHALE_ACTIVITY", "confidence": 0.5, "target_agents": [risk], "ttl_seconds": 1}
    published = as_agent(hunter).post("/api/v1/signals/", body, format="json").json()
    # Reads drop an item from the second its expiry names; until then the page counts whole
    # seconds left and says "expired" for the last one. Half a second before, whatever the
    # moment it was published (waiting a fixed 1.1 s made this depend on the clock's fraction).
    expires = datetime.fromisoformat(published["expires_at"].replace("Z", "+00:00"))
    time.sleep(max((expires - datetime.now(UTC)).total_seconds() - 0.5, 0))

    html = viewer.get(f"/signals/{published['signal_id']}/").content.decode()

    assert '<span class="pill bad">expired</span>' in html


def test_the_decision_page_and_the_feed_link_to_the_signal_page(viewer, sent):
    decision = viewer.get(f"/decisions/{sent['decision_id']}/").content.decode()
    feed = viewer.get("/signals/feed/").content.decode()

    assert f'<a href="/signals/{sent["signal_id"]}/"><code>{sent["signal_id"]}</code></a>' in decision
    assert f'<a href="/signals/{sent["signal_id"]}/">' in feed


def test_a_decision_naming_a_signal_id_no_url_can_hold_still_renders(viewer, as_agent, unique):
    agent = f"h-{unique[-6:].lower()}"
    decision = a_decision(agent, links={"consumed_signals": ["a/b", ""]})
    assert as_agent(agent).post(URL, decision, format="json").status_code == 201

    response = viewer.get(f"/decisions/{decision['decision_id']}/")

    assert response.status_code == 200
    assert "<code>a/b</code>" in response.content.decode()
