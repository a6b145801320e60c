"""lowbit.hwsim.bench.timing: the median of the timed calls, after the stated number of warm-ups."""
import pytest

from lowbit.hwsim.bench import timing


def fake_clock(monkeypatch, ticks):
    """time.perf_counter replaced by the given readings; a read past them raises StopIteration,
    so the clock is read exactly twice per timed call and never around a warm-up."""
    readings = iter(ticks)
    monkeypatch.setattr(timing.time, "perf_counter", lambda: next(readings))


def test_warmups_are_called_but_not_timed(monkeypatch):
    # A fake clock: each timed call takes 1, 5, 2 ... seconds; the median of 3 is 2.
    fake_clock(monkeypatch, [0, 1, 10, 15, 20, 22])
    calls = []
    assert timing.median_seconds(lambda: calls.append(1), repeats=3, warmups=2) == 2
    assert len(calls) == 5


def test_no_warmup(monkeypatch):
    # Calls of 3, 1, 7 and 2 seconds: an even count's median is the mean of the middle two, 2.5.
    fake_clock(monkeypatch, [0, 3, 10, 11, 20, 27, 30, 32])
    calls = []
    assert timing.median_seconds(lambda: calls.append(1), repeats=4, warmups=0) == 2.5
    assert len(calls) == 4


def test_cpu_clock_reads_the_threads_cpu_time(monkeypatch):
    readings = iter([0, 4, 10, 11, 20, 22])
    monkeypatch.setattr(timing.time, "thread_time", lambda: next(readings))
    assert timing.median_seconds(lambda: None, repeats=3, warmups=0, clock="cpu") == 2


def test_an_unknown_clock_is_refused():
    with pytest.raises(ValueError, match="clock must be one of wall, cpu, got 'gpu'"):
        timing.median_seconds(lambda: None, repeats=1, clock="gpu")


@pytest.mark.parametrize("kwargs", [dict(repeats=0), dict(repeats=1, warmups=-1)])
def test_bad_counts(kwargs):
    with pytest.raises(ValueError, match=r"repeats must be >= 1 and warmups >= 0"):
        timing.median_seconds(lambda: None, **kwargs)
