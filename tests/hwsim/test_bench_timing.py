"""lowbit.hwsim.bench.timing: the median of the timed calls, after the stated number of warm-ups."""
import pytest

from lowbit.hwsim.bench import timing


def test_warmups_are_called_but_not_timed(monkeypatch):
    # A fake clock: each timed call takes 1, 5, 2 ... seconds; the median of 3 is 2.
    ticks = iter([0, 1, 10, 15, 20, 22])
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(ticks))
    calls = []
    assert timing.median_seconds(lambda: calls.append(1), repeats=3, warmups=2) == 2
    assert len(calls) == 5


def test_no_warmup():
    calls = []
    assert timing.median_seconds(lambda: calls.append(1), repeats=4, warmups=0) >= 0
    assert len(calls) == 4


@pytest.mark.parametrize("kwargs", [dict(repeats=0), dict(repeats=1, warmups=-1)])
def test_bad_counts(kwargs):
    with pytest.raises(ValueError, match=r"repeats must be >= 1 and warmups >= 0"):
        timing.median_seconds(lambda: None, **kwargs)
