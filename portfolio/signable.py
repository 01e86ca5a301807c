"""When the signable record of a portfolio is brought up to date.

What a signature binds is computed on the assessment side (``assessments.signable``), which
registers its ``refresh`` here; both sides' services group the changes of one action with
``batched()``, so the record is recomputed once, as the action's block ends and inside its
transaction, instead of after every row it touches."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Set by assessments.signable.connect(): refresh(portfolio_id, create=...) recomputes the record.
REFRESH: list[Callable[..., object]] = []

_pending = threading.local()


@contextmanager
def batched() -> Iterator[None]:
    """Within the block, covered changes only note their portfolio; each noted portfolio's record
    is recomputed once as the block ends. Nests: the outermost block recomputes."""
    outer = getattr(_pending, "ids", None) is None
    if outer:
        _pending.ids = set()
    try:
        yield
        if outer:
            while _pending.ids:
                _refresh(_pending.ids.pop(), create=True)
    finally:
        if outer:
            _pending.ids = None


@contextmanager
def suspended() -> Iterator[None]:
    """Within the block nothing is recomputed: for loading rows exactly as they were saved,
    stored records included (a restore)."""
    _pending.suspended = True
    try:
        yield
    finally:
        _pending.suspended = False


def changed(portfolio_id: int | None, *, deleting: bool = False) -> None:
    """A covered row of the portfolio changed: recompute now, or as the enclosing ``batched()``
    ends. While rows are being deleted (perhaps with the portfolio itself) an existing record is
    updated but none is made."""
    if portfolio_id is None or getattr(_pending, "suspended", False):
        return
    pending = getattr(_pending, "ids", None)
    if pending is not None:
        pending.add(portfolio_id)
    else:
        _refresh(portfolio_id, create=not deleting)


def flush(portfolio_id: int) -> None:
    """Recompute now a record noted for the end of the enclosing ``batched()``: what reads the
    record inside the block (a signature, say) sees every change made before it."""
    pending = getattr(_pending, "ids", None)
    if pending and portfolio_id in pending:
        pending.discard(portfolio_id)
        _refresh(portfolio_id, create=True)


def _refresh(portfolio_id: int, *, create: bool) -> None:
    for refresh in REFRESH:
        refresh(portfolio_id, create=create)
