"""Scoped torch thread counts: `with torch_threads(1): ...` instead of changing the whole process.

torch's intra-op thread count belongs to the calling thread once that thread has
run a parallel op (OpenMP keeps it per thread); `torch.set_num_threads` also sets
the default that threads which have not run one yet will start with. So the
setting is made and undone in the thread that does the work, around the work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` torch threads in this thread, then restore what it had."""
    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
