"""The anti-replay window of each host's report sequence numbers, as in IPsec (RFC 4303).

The server remembers the highest seq it accepted (`last`) and a 64-bit bitmap of the seqs just
below it (bit i set: seq `last - i` was accepted; bit 0 is `last` itself). A new seq is

    above `last`              NEW: the window slides up
    inside, its bit clear     NEW: a report that overtook another on the way arrives late
    inside, its bit set       SEEN: a replay
    below the window          TOO_OLD: nothing in memory says whether it was seen

Agents send their spool oldest first, so late arrivals inside the window are rare; the window
makes them harmless instead of refused. A TOO_OLD seq may still be proven a replay by a stored
report with that seq (ingest looks), otherwise it is refused as out of order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

WINDOW = 64
_MASK = (1 << WINDOW) - 1


class SeqVerdict(enum.Enum):
    NEW = "new"
    SEEN = "seen"
    TOO_OLD = "too_old"


@dataclass(frozen=True)
class SeqState:
    last: int  # highest seq accepted; 0 before the first report
    window: int  # unsigned 64-bit bitmap

    def verdict(self, seq: int) -> SeqVerdict:
        if seq > self.last:
            return SeqVerdict.NEW
        offset = self.last - seq
        if offset >= WINDOW:
            return SeqVerdict.TOO_OLD
        return SeqVerdict.SEEN if self.window >> offset & 1 else SeqVerdict.NEW

    def accept(self, seq: int) -> SeqState:
        """The state after accepting `seq` (whose verdict must be NEW)."""
        if seq > self.last:
            shift = seq - self.last
            window = ((self.window << shift) | 1) & _MASK if shift < WINDOW else 1
            return SeqState(seq, window)
        return SeqState(self.last, self.window | (1 << (self.last - seq)))


def to_signed(window: int) -> int:
    """The unsigned bitmap as a signed 64-bit integer, which every database column can hold."""
    return window - (1 << WINDOW) if window >> (WINDOW - 1) else window


def to_unsigned(stored: int) -> int:
    return stored & _MASK
