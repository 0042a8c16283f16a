"""The learner's arithmetic: decayed hit and miss counts, and the confidence they support as a
Beta posterior (mean and 90% credible interval, never a bare ratio), and the lifecycle rule
built on that interval. Pure functions: consolidation feeds them, tests check them by hand."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from scipy.stats import beta

Status = Literal["candidate", "active", "retired", "pinned", "suspended"]
PRIOR = (1.0, 1.0)  # uniform: before any evidence every confidence is equally likely
LEVEL = 0.90
RETIRE_AFTER_HALF_LIVES = 4  # no new evidence for this long: what was learned has faded


@dataclass(frozen=True)
class Evidence:
    """Decayed counts as of `as_of`; `support` counts decisions, undecayed."""

    hits: float = 0.0
    misses: float = 0.0
    support: int = 0
    as_of: datetime | None = None


@dataclass(frozen=True)
class Confidence:
    mean: float
    low: float
    high: float
    support: int


def decay(elapsed_days: float, half_life_days: float) -> float:
    """The weight left after `elapsed_days`: one half per half-life."""
    return 0.5 ** (max(elapsed_days, 0.0) / half_life_days)


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def evidence_add(evidence: Evidence, *, at: datetime, hit: bool, half_life_days: float) -> Evidence:
    """Count one outcome observed for a decision made at `at`. Order does not matter: counts are
    kept as of the latest decision seen, and older decisions enter already decayed."""
    if evidence.as_of is None or at >= evidence.as_of:
        factor = 1.0 if evidence.as_of is None else decay(_days(at, evidence.as_of), half_life_days)
        hits, misses, as_of, weight = evidence.hits * factor, evidence.misses * factor, at, 1.0
    else:
        hits, misses, as_of = evidence.hits, evidence.misses, evidence.as_of
        weight = decay(_days(evidence.as_of, at), half_life_days)
    if hit:
        hits += weight
    else:
        misses += weight
    return Evidence(hits=hits, misses=misses, support=evidence.support + 1, as_of=as_of)


def evidence_remove(evidence: Evidence, *, at: datetime, hit: bool, half_life_days: float) -> Evidence:
    """Take back one outcome counted by evidence_add (a corrected outcome is counted anew): the
    same weight, decayed to the counts' as_of, comes off. Never below zero, whatever rounding did."""
    if evidence.as_of is None or evidence.support == 0:
        return evidence
    weight = decay(_days(evidence.as_of, at), half_life_days) if at <= evidence.as_of else 1.0
    hits = max(evidence.hits - weight, 0.0) if hit else evidence.hits
    misses = evidence.misses if hit else max(evidence.misses - weight, 0.0)
    return replace(evidence, hits=hits, misses=misses, support=evidence.support - 1)


def evidence_at(evidence: Evidence, now: datetime, *, half_life_days: float) -> Evidence:
    """The same evidence decayed to `now` (what it is worth today)."""
    if evidence.as_of is None or now <= evidence.as_of:
        return evidence
    factor = decay(_days(now, evidence.as_of), half_life_days)
    return replace(evidence, hits=evidence.hits * factor, misses=evidence.misses * factor, as_of=now)


def confidence(evidence: Evidence, *, level: float = LEVEL) -> Confidence:
    """Beta(prior + hits, prior + misses): its mean and central `level` credible interval."""
    a, b = PRIOR[0] + evidence.hits, PRIOR[1] + evidence.misses
    tail = (1 - level) / 2
    low, high = beta.ppf([tail, 1 - tail], a, b)
    return Confidence(mean=a / (a + b), low=float(low), high=float(high), support=evidence.support)


def next_status(
    status: Status,
    conf: Confidence,
    *,
    min_support: int,
    activate_at: float,
    days_since_evidence: float,
    half_life_days: float,
) -> Status:
    """candidate -> active once enough decisions back it and even the interval's low end clears
    activate_at; active -> retired when even its high end falls below, or the evidence went
    stale. Operators' pinned and suspended are never changed here."""
    if status in ("pinned", "suspended"):
        return status
    stale = days_since_evidence > RETIRE_AFTER_HALF_LIVES * half_life_days
    if status == "active":
        return "retired" if conf.high < activate_at or stale else "active"
    if conf.support >= min_support and conf.low >= activate_at and not stale:
        return "active"
    return status
