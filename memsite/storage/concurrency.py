"""Several calls at once: the chunks of a batch write, or single-item calls for batches whose
items each need a conditional write (which BatchWriteItem cannot do). boto3 clients are
thread-safe."""

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PARALLEL_CALLS = 8


def parallel(function: Callable[[Any], Any], inputs: list[Any]) -> list[Any]:
    """function(x) for each input, in order; at most PARALLEL_CALLS at a time."""
    if len(inputs) <= 1:
        return [function(x) for x in inputs]
    # Each call runs in a copy of the caller's context, so log lines keep the request's ids.
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=PARALLEL_CALLS) as pool:
        return list(pool.map(lambda x: context.copy().run(function, x), inputs))
