"""Pages of learned patterns, strategies and consolidation runs, with their figures' data."""

import json
import re

import pytest

from memsite.schedule import schedule_install
from patterns import consolidation
from tests.patterns.helpers import log


@pytest.fixture
def learned(agent, marker, definition):
    for status in ["SUCCESS"] * 7 + ["FAILURE"] * 3:
        log(agent, marker, outcome=status)
    consolidation.consolidate_agent(agent)
    log(agent, marker, outcome="SUCCESS")
    consolidation.consolidate_agent(agent)
    return definition


def figure(response, name: str) -> dict:
    found = re.search(
        rf'<script id="figure-{name}" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert found, f"no figure {name} on the page"
    return json.loads(found.group(1))


def test_the_list_charts_each_confidence_with_its_interval_and_the_calibration(client, bob, agent, learned):
    client.force_login(bob)

    response = client.get(f"/patterns/?agent={agent}&scope=agents")

    assert response.status_code == 200
    bars = figure(response, "confidence")
    [candidate] = [t for t in bars["data"] if t["name"] == "candidate"]
    assert candidate["y"] == [f"test pattern · {agent}"]
    [point] = candidate["x"]
    assert 0.5 < point < 0.8
    assert candidate["error_x"]["arrayminus"][0] > 0
    calibration = figure(response, "calibration")
    [realised] = [t for t in calibration["data"] if t["name"] == "realised hit rate"]
    assert sum(int(n.removeprefix("n=")) for n in realised["text"]) == 11
    assert f'href="/patterns/{learned.id}/?agent={agent}"' in response.content.decode()


def test_the_detail_page_charts_the_evolution_and_links_the_decisions_behind_it(client, bob, agent, learned):
    client.force_login(bob)

    response = client.get(f"/patterns/{learned.id}/?agent={agent}")

    assert response.status_code == 200
    evolution = figure(response, "evolution")
    [line] = [t for t in evolution["data"] if t["name"] == "confidence"]
    assert len(line["y"]) == 2
    assert line["y"][1] > line["y"][0]  # one more hit raised it
    [band] = [t for t in evolution["data"] if t["name"] == "90% interval"]
    assert len(band["y"]) == 4
    page = response.content.decode()
    assert page.count('href="/decisions/') >= 10
    assert "Operator override" not in page  # bob is a viewer


def test_an_operator_suspends_a_pattern_from_its_page(client, alice, agent, learned):
    client.force_login(alice)

    response = client.post(
        f"/patterns/{learned.id}/?agent={agent}", {"override": "suspended", "reason": "feed broken"}, follow=True
    )

    page = response.content.decode()
    assert "suspended" in page
    assert "feed broken" in page


def test_an_unknown_pattern_is_a_friendly_404(client, bob):
    client.force_login(bob)

    assert client.get("/patterns/no-such-pattern/").status_code == 404


def test_strategies_show_the_best_action(client, bob, agent, learned):
    client.force_login(bob)

    page = client.get(f"/patterns/strategies/?agent={agent}").content.decode()

    assert "<strong>long</strong>" in page


def test_the_ops_page_lists_runs_and_the_schedule(client, carol, agent, learned):
    schedule_install()
    client.force_login(carol)

    page = client.get("/ops/").content.decode()

    assert "consolidate all agents" in page
    assert "patterns.tasks.consolidate_all" in page
    assert agent in page
    assert "Run consolidation now" in page


def test_empty_states_say_what_to_do(client, bob):
    client.force_login(bob)

    page = client.get("/patterns/?agent=nobody-at-all&scope=agents").content.decode()

    assert "Nothing learned yet" in page
    assert "manage.py consolidate" in page


def test_choosing_an_agent_shows_its_patterns_and_the_shared_ones(client, bob, agent, learned):
    client.force_login(bob)

    bars = figure(client.get(f"/patterns/?agent={agent}"), "confidence")

    labels = [label for trace in bars["data"] if trace["name"] == "candidate" for label in trace["y"]]
    assert f"test pattern · {agent}" in labels
    assert "test pattern · all agents" in labels  # other tests' shared patterns share the name
    assert all(label.endswith((f"· {agent}", "· all agents")) for label in labels)  # no other agent's
