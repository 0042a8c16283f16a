"""Reads of archetypes: the current model's archetypes, and the past situations nearest a given
context. Reads the model pointer, the model's archetypes (once per process and model), and the few
decisions returned (a BatchGet); never the decision log at large."""

import functools
import math
from dataclasses import dataclass
from typing import Any

from decisions.repository import decisions_find
from decisions.schemas import MAX_DECISION_BYTES, Decision
from memsite.validation import size_checked, storable
from patterns import archetype_repository as repository
from patterns.archetype_schemas import (
    Archetype,
    ArchetypeList,
    ArchetypeModel,
    ArchetypeOut,
    Member,
    SimilarDecision,
    SimilarSituations,
)
from patterns.archetypes import FeatureSpace, context_features, nearest_archetypes, rank_by_distance

WHY_NO_MODEL = (
    "The hourly consolidation job builds archetypes from the last 7 days of decisions "
    "once at least 10 of them have numbers or flags in their context."
)
NO_MODEL = f"No archetypes yet. {WHY_NO_MODEL}"
EXAMPLES = 5


@dataclass(frozen=True)
class CurrentArchetypes:
    model: ArchetypeModel
    archetypes: list[Archetype]


def archetypes_current() -> CurrentArchetypes | None:
    """The current model and its archetypes, largest first; None before the first rebuild."""
    pointer = repository.pointer_find()
    archetypes = list(_archetypes_of(pointer.model.model_id)) if pointer else []
    # No archetypes under a pointer: its model was replaced twice since the pointer was read.
    return CurrentArchetypes(model=pointer.model, archetypes=archetypes) if pointer and archetypes else None


@functools.lru_cache(maxsize=2)
def _archetypes_of(model_id: str) -> tuple[Archetype, ...]:
    """A model's items never change once written, so a process keeps the current model's: each
    query then reads only the small pointer item, not every archetype's member sample."""
    return tuple(repository.archetypes_of(model_id))


def archetype_out(archetype: Archetype, distance: float | None = None) -> ArchetypeOut:
    return ArchetypeOut(
        number=archetype.number,
        label=archetype.label,
        typical=archetype.typical,
        stats=archetype.stats,
        examples=[member.decision_id for member in archetype.members[:EXAMPLES]],
        distance=None if distance is None else round(distance, 4),
    )


def archetype_list() -> ArchetypeList:
    current = archetypes_current()
    if current is None:
        return ArchetypeList(results=[], detail=NO_MODEL)
    model = current.model
    return ArchetypeList(
        results=[archetype_out(archetype) for archetype in current.archetypes],
        detail=f"{model.k} archetypes from {model.rows} decisions of {model.window_days} days",
        model_id=model.model_id,
        built_at=model.built_at,
    )


def similar_situations(
    *, context: dict[str, Any], type: str | None = None, agent_id: str | None = None, limit: int = 10
) -> SimilarSituations:
    """The archetype nearest `context` and the nearest past decisions (of `type`, by `agent_id`
    when given), nearest first, each with its outcome as it stands now."""
    _comparable(context)
    current = archetypes_current()
    if current is None:
        return SimilarSituations(archetype=None, results=[], detail=NO_MODEL)
    space = current.model.space()
    features = context_features(context)
    vector = space.vector(features)
    ranked = nearest_archetypes(vector, [archetype.centroid for archetype in current.archetypes])
    nearest_distance, nearest = ranked[0][0], current.archetypes[ranked[0][1]]
    candidates = _candidates([current.archetypes[i] for _, i in ranked[:2]], type=type, agent_id=agent_id, limit=limit)
    chosen = rank_by_distance(vector, candidates, lambda candidate: candidate[1].vector)[:limit]
    return SimilarSituations(
        archetype=archetype_out(nearest, nearest_distance),
        results=_with_current_outcomes(chosen),
        detail=f"nearest of {current.model.k} archetypes built from {current.model.rows} decisions",
        model_id=current.model.model_id,
        built_at=current.model.built_at,
        features_used=_features_used(space, features),
    )


def _comparable(context: dict[str, Any]) -> None:
    """Refuse a context no decision could have: larger than a whole decision may be, or holding
    a value DynamoDB cannot (a number past 1e126 lies infinitely far from every past situation,
    and its distances would not even be JSON)."""
    size_checked(context, MAX_DECISION_BYTES, "context")
    storable(context, "context")


def _candidates(
    nearest_two: list[Archetype], *, type: str | None, agent_id: str | None, limit: int
) -> list[tuple[int, Member]]:
    """The nearest archetype's sampled members that match; the second-nearest's join them when
    the first has fewer than `limit`."""
    candidates: list[tuple[int, Member]] = []
    for archetype in nearest_two:
        if len(candidates) >= limit:
            break
        candidates += [
            (archetype.number, member)
            for member in archetype.members
            if (type is None or member.type == type) and (agent_id is None or member.agent_id == agent_id)
        ]
    return candidates


def _with_current_outcomes(chosen: list[tuple[float, tuple[int, Member]]]) -> list[SimilarDecision]:
    """Outcomes are reported after the model was built, so each decision is read back as it is now;
    decisions gone since (past their 90 days) are left out."""
    found: dict[str, Decision] = {d.decision_id: d for d in decisions_find([m.key for _, (_, m) in chosen])}
    return [
        _similar(distance, number, found[member.decision_id])
        for distance, (number, member) in chosen
        if member.decision_id in found
    ]


def _similar(distance: float, archetype_number: int, decision: Decision) -> SimilarDecision:
    return SimilarDecision(
        decision_id=decision.decision_id,
        agent_id=decision.agent_id,
        type=decision.type,
        timestamp=decision.timestamp,
        distance=round(distance, 4),
        archetype=archetype_number,
        outcome_status=decision.outcome_status,
        outcome=decision.outcome,
        context=decision.context,
        reasoning=decision.reasoning,
    )


def _features_used(space: FeatureSpace, features: dict) -> list[str]:
    return [name for name, raw in zip(space.names, space.raw(features), strict=True) if not math.isnan(raw)]
