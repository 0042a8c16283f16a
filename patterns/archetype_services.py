"""Rebuilding the archetypes from the decision log: the consolidation job's work. Reads the last
days of every agent's decisions (the by_day index, newest first), clusters their contexts, and
stores the model whole before making it current (see archetype_repository)."""

import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import islice

from pydantic import BaseModel
from ulid import ULID

from decisions.repository import main_key
from decisions.schemas import Decision
from decisions.selectors import DecisionFilter, decision_iter
from memsite import storage
from patterns import archetype_repository as repository
from patterns.archetype_schemas import Archetype, ArchetypeModel, Member, OutcomeStats
from patterns.archetypes import Clustering, Feature, cluster, context_features, describe
from patterns.learner import Evidence, confidence

logger = logging.getLogger(__name__)

MIN_ROWS = 10  # fewer contexts than this make clusters of noise
MAX_MEMBERS = 200  # per archetype, the most recent: what similar-situation queries rank


class RebuildSummary(BaseModel):
    stored: bool
    detail: str
    model_id: str | None = None
    rows: int = 0
    k: int = 0
    labels: list[str] = []


Row = tuple[Decision, dict[str, Feature]]


def archetypes_rebuild(*, days: int = 7, max_rows: int = 5000) -> RebuildSummary:
    """Cluster the contexts of the last `days` days' decisions (at most the `max_rows` newest)
    and make the result the current model. Too few decisions with numbers in their context:
    nothing is stored, and the summary says so."""
    until = datetime.now(UTC)
    decisions = decision_iter(filters=DecisionFilter(since=until - timedelta(days=days), until=until))
    summary = _rebuild_from(islice(decisions, max_rows), window_days=days, built_at=until)
    logger.info("archetypes rebuild: %s", summary.detail)
    return summary


def _rows_of(decisions: Iterable[Decision]) -> list[Row]:
    """Decisions whose context has a number or a flag: a context of strings alone places nothing."""
    rows = []
    for decision in decisions:
        features = context_features(decision.context)
        if any(feature.kind != "category" for feature in features.values()):
            rows.append((decision, features))
    return rows


def _rebuild_from(decisions: Iterable[Decision], *, window_days: int, built_at: datetime) -> RebuildSummary:
    rows = _rows_of(decisions)
    if len(rows) < MIN_ROWS:
        detail = f"{len(rows)} decisions with numbers in their context in {window_days} days; {MIN_ROWS} needed"
        return RebuildSummary(stored=False, detail=detail, rows=len(rows))
    try:
        clustering = cluster([features for _, features in rows])
    except ValueError as error:
        return RebuildSummary(stored=False, detail=str(error), rows=len(rows))
    model = _model(clustering, rows=len(rows), window_days=window_days, built_at=built_at)
    archetypes = [_archetype(model.model_id, number, clustering, rows) for number in range(model.k)]
    if not _store(model, archetypes):
        return RebuildSummary(stored=False, detail="another rebuild switched the model first; its model stays")
    labels = [archetype.label for archetype in archetypes]
    detail = f"{model.k} archetypes from {len(rows)} decisions: " + "; ".join(labels)
    return RebuildSummary(stored=True, detail=detail, model_id=model.model_id, rows=len(rows), k=model.k, labels=labels)


def _store(model: ArchetypeModel, archetypes: list[Archetype]) -> bool:
    """Archetypes first, the pointer last; then the model two rebuilds back goes. False when a
    concurrent rebuild won the switch (this model's items are removed again)."""
    current = repository.pointer_find(consistent=True)
    repository.archetypes_put(archetypes)
    try:
        repository.pointer_switch(model, replacing=current)
    except storage.Conflict:
        repository.archetypes_delete(model.model_id, model.k)
        return False
    if current and current.previous_model_id:
        repository.archetypes_delete(current.previous_model_id, current.previous_k)
    return True


def _model(clustering: Clustering, *, rows: int, window_days: int, built_at: datetime) -> ArchetypeModel:
    space = clustering.space
    return ArchetypeModel(
        model_id=str(ULID()),
        built_at=built_at,
        window_days=window_days,
        rows=rows,
        k=len(clustering.centroids),
        silhouette=None if clustering.silhouette is None else round(clustering.silhouette, 4),
        features=space.names,
        kinds=space.kinds,
        means=space.means,
        scales=space.scales,
    )


def _archetype(model_id: str, number: int, clustering: Clustering, rows: list[Row]) -> Archetype:
    members = [
        (decision, clustering.vectors[i]) for i, (decision, _) in enumerate(rows) if clustering.labels[i] == number
    ]
    members.sort(key=lambda member: member[0].timestamp, reverse=True)
    centroid = clustering.centroids[number]
    return Archetype(
        model_id=model_id,
        number=number,
        label=describe(clustering.space, centroid),
        centroid=centroid,
        typical=clustering.space.unscaled(centroid),
        stats=outcome_stats([decision for decision, _ in members]),
        members=[_member(decision, vector) for decision, vector in members[:MAX_MEMBERS]],
    )


def outcome_stats(decisions: list[Decision]) -> OutcomeStats:
    counts = Counter(decision.outcome_status for decision in decisions)
    successes, failures = counts["SUCCESS"], counts["FAILURE"]
    posterior = confidence(Evidence(hits=successes, misses=failures, support=successes + failures))
    return OutcomeStats(
        decisions=len(decisions),
        successes=successes,
        failures=failures,
        pending=counts["PENDING"],
        success_rate=round(posterior.mean, 4),
        low=round(posterior.low, 4),
        high=round(posterior.high, 4),
    )


def _member(decision: Decision, vector: list[float]) -> Member:
    return Member(
        decision_id=decision.decision_id,
        agent_id=decision.agent_id,
        type=decision.type,
        timestamp=decision.timestamp,
        key=main_key(decision),
        vector=vector,
        outcome_status=decision.outcome_status,
    )
