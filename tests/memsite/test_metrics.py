"""/metrics: Prometheus text for the scraper and admins only; what it counts."""

import pytest

METRIC_LINES = ("memsite_http_requests_total", "memsite_storage_calls_total", "memsite_client_spool_pending")


def test_anonymous_and_viewers_and_agents_are_refused(client, bob, as_person, as_agent):
    assert client.get("/metrics").status_code == 403
    assert as_person(bob).get("/metrics").status_code == 403
    assert as_agent("market-hunter").get("/metrics").status_code == 403


def test_the_scraper_reads_it_with_its_token(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"

    refused = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")

    assert refused.status_code == 403
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_requests_storage_calls_and_spool_backlogs_are_counted(as_person, carol, as_agent):
    agent = as_agent("market-hunter")
    agent.post("/api/v1/agents/market-hunter/heartbeat/", {"spool_pending": 17}, format="json")
    agent.get("/api/v1/decisions/?limit=1")

    text = as_person(carol).get("/metrics").content.decode()

    assert 'memsite_http_requests_total{method="GET",route="/api/v1/decisions/",status="200"}' in text
    assert 'memsite_storage_calls_total{operation="Query"}' in text
    assert 'memsite_client_spool_pending{agent_id="market-hunter"} 17.0' in text
    assert 'memsite_storage_capacity_units_total{kind="write"}' in text  # the heartbeat's UpdateItem
    assert 'memsite_storage_capacity_units_total{kind="read"}' in text


@pytest.mark.parametrize("count", [-1, "many"])
def test_a_bad_spool_count_is_400(as_agent, count):
    response = as_agent("market-hunter").post(
        "/api/v1/agents/market-hunter/heartbeat/", {"spool_pending": count}, format="json"
    )

    assert response.status_code == 400
    assert "spool_pending" in response.json()["fields"]


def test_any_word_as_a_method_counts_as_other(client, as_person, carol):
    client.generic("QWERTY", "/health/live")

    text = as_person(carol).get("/metrics").content.decode()

    assert 'method="QWERTY"' not in text
    assert 'memsite_http_requests_total{method="other",route="/health/live",status="405"}' in text
