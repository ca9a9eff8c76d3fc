"""SIGTERM and SIGHUP handled like Ctrl-C, so a killed or hung-up run still finishes its files.

    with signals_as_interrupt():
        run()                      # SIGTERM/SIGHUP raise Terminated (a KeyboardInterrupt) in the main thread
    except Terminated as e: ...    # e.exit_code: 143 for SIGTERM, 129 for SIGHUP (128 + signal number)

A service manager stops a process with SIGTERM and a closed terminal sends
SIGHUP; their default action kills the process on the spot, leaving an mp4
without its index (unplayable) and a JSON file without its summary. Raised as
a KeyboardInterrupt, they go through the same clean shutdown as Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HANDLED = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal; `exit_code` is the shell's convention, 128 + the signal number."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"stopped by {signal.Signals(self.signum).name}")


def _raise_terminated(signum, _frame):
    raise Terminated(signum)


@contextmanager
def signals_as_interrupt(signums: tuple[int, ...] = HANDLED) -> Iterator[None]:
    """Within the block, the given signals raise Terminated in the main thread; the old handlers come back after.

    Outside the main thread (where Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_terminated) for s in signums}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
