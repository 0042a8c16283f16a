"""Several calls at once: the chunks of a batch write, or single-item calls for batches whose
items each need a conditional write (which BatchWriteItem cannot do). boto3 clients are
thread-safe."""

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

PARALLEL_CALLS = 8


def parallel(function: Callable[[Any], Any], inputs: list[Any]) -> list[Any]:
    """function(x) for each input, in order; at most PARALLEL_CALLS at a time. Once a call has
    failed no further call starts, and the error is raised when the calls under way have ended."""
    if len(inputs) <= 1:
        return [function(x) for x in inputs]
    # Each call runs in a copy of the caller's context, so log lines keep the request's ids.
    context = contextvars.copy_context()
    failed = threading.Event()

    def call(x: Any) -> Any:
        # After a failure the caller fails anyway, and a retry completes the work. Against a
        # DynamoDB that hangs, every call still to be made would first wait out its own timeout,
        # PARALLEL_CALLS at a time: a request with 40 calls would hold its worker for five timeouts.
        if failed.is_set():
            return None  # never returned to the caller: the failed call's error is
        try:
            return context.copy().run(function, x)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=PARALLEL_CALLS) as pool:
        return list(pool.map(call, inputs))
