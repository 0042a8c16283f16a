"""The signal pages and the Sankey figure."""

from collections import Counter

import pytest

from signals import charts


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
