"""Run a check in a child process with a deadline, so a test of "finishes in linear time" fails instead of hanging.

A regular expression that backtracks runs inside the C engine, where no signal or timeout of the test runner can
stop it; a child process can be killed.
"""

import multiprocessing
from collections.abc import Callable


def within(seconds: float, check: Callable, *args):
    """`check(*args)` in a fresh process (it must be importable by name); its result, or a failed test after `seconds`."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pending = pool.apply_async(check, args)
        try:
            return pending.get(timeout=seconds)
        except multiprocessing.TimeoutError:
            pool.terminate()
            raise AssertionError(f"{check.__name__} did not finish within {seconds:g} s") from None
