"""The 64-report anti-replay window, as a pure function."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.fleet.sequence import WINDOW, SeqState, SeqVerdict, to_signed, to_unsigned

pytestmark = pytest.mark.server


def after(*seqs: int) -> SeqState:
    state = SeqState(0, 0)
    for seq in seqs:
        assert state.verdict(seq) is SeqVerdict.NEW
        state = state.accept(seq)
    return state


def test_a_fresh_host_accepts_any_first_seq() -> None:
    assert SeqState(0, 0).verdict(1) is SeqVerdict.NEW
    assert SeqState(0, 0).verdict(2**63 - 1) is SeqVerdict.NEW


def test_an_accepted_seq_is_seen() -> None:
    state = after(1, 2, 3)
    assert [state.verdict(s) for s in (1, 2, 3)] == [SeqVerdict.SEEN] * 3


def test_a_gap_inside_the_window_can_be_filled_once() -> None:
    state = after(1, 5)
    assert state.verdict(3) is SeqVerdict.NEW
    assert state.accept(3).verdict(3) is SeqVerdict.SEEN
    assert state.accept(3).last == 5


def test_the_window_reaches_exactly_64_back() -> None:
    state = after(100)
    assert state.verdict(100 - (WINDOW - 1)) is SeqVerdict.NEW
    assert state.verdict(100 - WINDOW) is SeqVerdict.TOO_OLD


def test_a_jump_beyond_the_window_forgets_everything_below() -> None:
    state = after(1, 2, 1000)
    assert state.window == 1
    assert state.verdict(999) is SeqVerdict.NEW and state.verdict(2) is SeqVerdict.TOO_OLD


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_the_window_survives_a_signed_64_bit_column(window: int) -> None:
    stored = to_signed(window)
    assert -(2**63) <= stored < 2**63
    assert to_unsigned(stored) == window


@given(st.lists(st.integers(min_value=1, max_value=300), max_size=80))
def test_no_seq_is_ever_accepted_twice(seqs: list[int]) -> None:
    state, accepted = SeqState(0, 0), set()
    for seq in seqs:
        verdict = state.verdict(seq)
        if verdict is SeqVerdict.NEW:
            assert seq not in accepted
            accepted.add(seq)
            state = state.accept(seq)
        elif verdict is SeqVerdict.SEEN:
            assert seq in accepted
        else:
            assert seq <= state.last - WINDOW
