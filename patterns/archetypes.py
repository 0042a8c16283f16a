"""Archetypes: clusters of past market contexts. Pure functions, no storage: the rebuild service
feeds them decisions' contexts, the selectors use what they fitted to place a new context.

A context (nested JSON) becomes features on dotted paths:
  numbers              market.funding_rate -> 0.031
  booleans             whale_activity      -> 1.0 / 0.0
  short strings        regime=trend        -> 1.0   (one-hot; regime=range is then 0.0)
Lists are skipped (a position in a list carries no stable meaning) and so is prose (long strings).

Fitting keeps the features present in enough rows, standardises them (scikit-learn's StandardScaler),
and clusters with KMeans, k chosen by silhouette score. What a context does not say (a missing
number or flag, a category path it lacks) takes the feature's mean, i.e. 0 once scaled, so the
unknown pulls a context towards no archetype in particular.
"""

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

Kind = Literal["number", "flag", "category"]
T = TypeVar("T")

MAX_DEPTH = 6
MAX_CATEGORY_LENGTH = 40  # longer strings are prose, not a category
MIN_PRESENCE = 0.2  # a feature (or a category's path) must appear in a fifth of the rows
MIN_CATEGORY_SHARE = 0.05  # rarer category values would each add a dimension for a handful of rows
MAX_FEATURES = 40  # keeps each stored member vector, and so each archetype item, small
K_RANGE = range(2, 9)
SILHOUETTE_SAMPLE = 2000  # silhouette is quadratic in rows; a fixed sample bounds the rebuild's cost
SEED = 0  # fixed, so a rebuild over the same decisions gives the same archetypes
N_INIT = 10
DISTINCTIVE_Z = 0.5  # how far from the mean (in standard deviations) a centroid must sit to be named


class Feature(NamedTuple):
    kind: Kind
    value: float


def context_features(context: Mapping[str, Any]) -> dict[str, Feature]:
    """The features of one context, named by dotted path (categories as `path=value`)."""
    features: dict[str, Feature] = {}
    _collect(context, "", 0, features)
    return features


def _collect(node: Mapping[str, Any], prefix: str, depth: int, into: dict[str, Feature]) -> None:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, bool):  # before int: a bool is an int to Python
            into[path] = Feature("flag", 1.0 if value else 0.0)
        elif isinstance(value, int | float) and math.isfinite(value):
            into[path] = Feature("number", float(value))
        elif isinstance(value, str) and 0 < len(value) <= MAX_CATEGORY_LENGTH:
            into[f"{path}={value}"] = Feature("category", 1.0)
        elif isinstance(value, Mapping) and depth < MAX_DEPTH:
            _collect(value, f"{path}.", depth + 1, into)


def category_path(name: str) -> str:
    return name.split("=", 1)[0]


@dataclass(frozen=True)
class FeatureSpace:
    """The features a model uses and how each is scaled: z = (x - mean) / scale."""

    names: list[str]
    kinds: list[Kind]
    means: list[float]
    scales: list[float]

    def raw(self, features: Mapping[str, Feature]) -> list[float]:
        """Unscaled values, NaN where unknown: a missing number or flag, or a category whose path
        the context lacks. A path holding another value is known: 0 for this value."""
        paths = {category_path(name) for name, feature in features.items() if feature.kind == "category"}
        return [
            features[name].value
            if name in features
            else (0.0 if kind == "category" and category_path(name) in paths else math.nan)
            for name, kind in zip(self.names, self.kinds, strict=True)
        ]

    def vector(self, features: Mapping[str, Feature]) -> list[float]:
        """The scaled vector of one context; a missing number or flag sits at the mean (0)."""
        return self.matrix([features])[0].tolist()

    def raw_matrix(self, rows: Sequence[Mapping[str, Feature]]) -> np.ndarray:
        return np.array([self.raw(row) for row in rows], dtype=float).reshape(len(rows), len(self.names))

    def matrix(self, rows: Sequence[Mapping[str, Feature]]) -> np.ndarray:
        """Scaled vectors, one row per context."""
        scaled = (self.raw_matrix(rows) - np.array(self.means)) / np.array(self.scales)
        return np.nan_to_num(scaled, nan=0.0)

    def unscaled(self, vector: Sequence[float]) -> dict[str, float]:
        """A point of the scaled space in the features' own units (a category: its share)."""
        return {
            name: mean + z * scale
            for name, mean, scale, z in zip(self.names, self.means, self.scales, vector, strict=True)
        }


def features_select(rows: Sequence[Mapping[str, Feature]]) -> list[tuple[str, Kind]]:
    """The features present in enough rows, most common first, at most MAX_FEATURES."""
    counts: Counter[str] = Counter(name for row in rows for name in row)
    kinds = {name: feature.kind for row in rows for name, feature in row.items()}
    paths: Counter[str] = Counter(
        path for row in rows for path in {category_path(n) for n, f in row.items() if f.kind == "category"}
    )
    enough = MIN_PRESENCE * len(rows)

    def common_enough(name: str) -> bool:
        if kinds[name] != "category":
            return counts[name] >= enough
        # A category value needs its path in enough rows, and itself in a few of them.
        return paths[category_path(name)] >= enough and counts[name] >= MIN_CATEGORY_SHARE * len(rows)

    chosen = sorted(filter(common_enough, counts), key=lambda name: (-counts[name], name))
    return [(name, kinds[name]) for name in chosen[:MAX_FEATURES]]


def space_fit(rows: Sequence[Mapping[str, Feature]]) -> FeatureSpace:
    """The selected features with the scaler's mean and scale; constant features are dropped
    (they separate nothing)."""
    selected = features_select(rows)
    names, kinds = [name for name, _ in selected], [kind for _, kind in selected]
    raw = FeatureSpace(names, kinds, means=[0.0] * len(names), scales=[1.0] * len(names)).raw_matrix(rows)
    varying = [i for i in range(len(names)) if np.nanstd(raw[:, i]) > 0]
    if not varying:
        return FeatureSpace(names=[], kinds=[], means=[], scales=[])
    scaler = StandardScaler().fit(raw[:, varying])  # NaN (missing) is left out of mean and scale
    return FeatureSpace(
        names=[names[i] for i in varying],
        kinds=[kinds[i] for i in varying],
        means=[float(m) for m in scaler.mean_],
        scales=[float(s) for s in scaler.scale_],
    )


@dataclass(frozen=True)
class Clustering:
    """Archetypes are numbered by size, largest first; `labels[i]` is row i's archetype."""

    space: FeatureSpace
    centroids: list[list[float]]
    labels: list[int]
    vectors: list[list[float]]
    silhouette: float | None


def cluster(rows: Sequence[Mapping[str, Feature]]) -> Clustering:
    """Fit the feature space and the clusters. Needs rows sharing at least one varying feature."""
    space = space_fit(rows)
    if not space.names:
        raise ValueError("no feature varies across enough rows to cluster on")
    matrix = space.matrix(rows)
    model, score = _best_kmeans(matrix)
    # KMeans numbers clusters arbitrarily; by size, largest first, reads better and is stable.
    sizes = Counter(model.labels_.tolist())
    by_size = sorted(sizes, key=lambda label: (-sizes[label], label))
    renumber = {old: new for new, old in enumerate(by_size)}
    return Clustering(
        space=space,
        centroids=[model.cluster_centers_[old].tolist() for old in by_size],
        labels=[renumber[label] for label in model.labels_.tolist()],
        vectors=matrix.tolist(),
        silhouette=score,
    )


def _best_kmeans(matrix: np.ndarray) -> tuple[KMeans, float | None]:
    """The k in K_RANGE with the best silhouette; one cluster when no k of two or more fits
    (fewer distinct points than that)."""
    distinct = len(np.unique(matrix, axis=0))
    best: tuple[KMeans, float] | None = None
    for k in K_RANGE:
        if k >= distinct:  # silhouette needs 2 <= k <= distinct points - 1
            break
        model = KMeans(n_clusters=k, n_init=N_INIT, random_state=SEED).fit(matrix)
        if len(set(model.labels_.tolist())) < 2:
            continue
        sample = SILHOUETTE_SAMPLE if len(matrix) > SILHOUETTE_SAMPLE else None
        score = float(silhouette_score(matrix, model.labels_, sample_size=sample, random_state=SEED))
        if best is None or score > best[1]:
            best = (model, score)
    if best is None:
        return KMeans(n_clusters=1, n_init=1, random_state=SEED).fit(matrix), None
    return best


def describe(space: FeatureSpace, centroid: Sequence[float], *, top: int = 3) -> str:
    """A short name from the centroid's most distinctive features: "high funding_rate, whale_activity"."""
    ranked = sorted(zip(space.names, space.kinds, centroid, strict=True), key=lambda f: (-abs(f[2]), f[0]))
    words = []
    for name, kind, z in ranked:
        if abs(z) < DISTINCTIVE_Z or len(words) == top:
            break
        if kind == "number":
            words.append(f"{'high' if z > 0 else 'low'} {name}")
        elif kind == "flag":
            words.append(name if z > 0 else f"no {name}")
        elif z > 0:  # "not regime=trend" says little; the value that is there says more
            words.append(name)
    return ", ".join(words) or "typical context"


def distance(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))


def rank_by_distance(
    vector: Sequence[float], candidates: Sequence[T], vector_of: Callable[[T], Sequence[float]]
) -> list[tuple[float, T]]:
    """Candidates nearest first, with their Euclidean distance in the scaled space; ties keep
    the candidates' order."""
    scored = [(distance(vector, vector_of(candidate)), i, candidate) for i, candidate in enumerate(candidates)]
    return [(d, candidate) for d, _, candidate in sorted(scored, key=lambda s: (s[0], s[1]))]


def nearest_archetypes(vector: Sequence[float], centroids: Sequence[Sequence[float]]) -> list[tuple[float, int]]:
    """Every archetype number with its distance, nearest first."""
    return rank_by_distance(vector, range(len(centroids)), lambda number: centroids[number])
