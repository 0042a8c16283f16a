"""parallel(): several storage calls at once, in order, and no new ones once one has failed."""

import threading
import time

import pytest

from memsite.storage import Unavailable
from memsite.storage.concurrency import PARALLEL_CALLS, parallel


def test_results_come_back_in_the_order_of_the_inputs():
    assert parallel(lambda n: n * n, list(range(30))) == [n * n for n in range(30)]


def test_after_a_call_fails_no_further_call_starts_and_the_error_is_raised_once_the_others_end():
    """Against a DynamoDB that hangs every call waits out its timeout: calls made after the first
    failure would only hold the request longer, PARALLEL_CALLS at a time."""
    started, running = [], []
    lock = threading.Lock()

    def call(n: int) -> int:
        with lock:
            started.append(n)
            running.append(n)
        try:
            if n == 0:
                raise Unavailable("DynamoDB is not answering")
            time.sleep(0.2)
            return n
        finally:
            with lock:
                running.remove(n)

    with pytest.raises(Unavailable, match="not answering"):
        parallel(call, list(range(5 * PARALLEL_CALLS)))

    assert len(started) <= PARALLEL_CALLS
    assert running == []
