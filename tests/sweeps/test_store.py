"""lowbit.sweeps.store: atomic checksummed records, torn tails, corrupt lines, the lock."""
from __future__ import annotations

import io
import json

import pytest

from lowbit.sweeps import store


def record(i: int, status: str = "ok") -> dict:
    return {"key": f"k{i}", "status": status, "point": {"scheme": "int8", "lanes": i},
            "metrics": {"fidelity": 0.5 + i / 100, "nan": float("nan")}, "seconds": 0.1}


def test_roundtrip_and_reopen(tmp_path):
    path = tmp_path / "p.jsonl"
    with store.Store(path) as s:
        for i in range(3):
            s.append(record(i))
        assert list(s.records) == ["k0", "k1", "k2"]
    records = store.read(path)
    assert [r["point"]["lanes"] for r in records.values()] == [0, 1, 2]
    assert records["k1"]["metrics"]["fidelity"] == 0.51
    with store.Store(path) as s:
        assert list(s.records) == ["k0", "k1", "k2"]
    assert path.read_bytes().count(b"\n") == 3


def test_each_line_is_complete_json_with_checksum(tmp_path):
    path = tmp_path / "p.jsonl"
    with store.Store(path) as s:
        s.append(record(0, "not_applicable"))
    (line,) = path.read_text().splitlines()
    parsed = json.loads(line)
    assert parsed["status"] == "not_applicable" and len(parsed["sha"]) == 64


def test_bad_status_is_refused(tmp_path):
    with store.Store(tmp_path / "p.jsonl") as s, pytest.raises(ValueError, match="status"):
        s.append(record(0, "maybe"))


def test_torn_last_line_is_ignored_then_truncated(tmp_path):
    path = tmp_path / "p.jsonl"
    with store.Store(path) as s:
        s.append(record(0))
        s.append(record(1))
    whole = path.read_bytes()
    torn = store.seal(record(2))[:-10]  # a crash in the middle of the third write
    path.write_bytes(whole + torn)
    warnings = io.StringIO()
    assert list(store.read(path, warn=warnings)) == ["k0", "k1"]
    assert "torn last record" in warnings.getvalue()
    with store.Store(path, warn=io.StringIO()) as s:
        assert path.read_bytes() == whole  # the torn bytes are gone
        s.append(record(2))
    assert list(store.read(path)) == ["k0", "k1", "k2"]


def test_corrupt_line_is_ignored_with_a_warning(tmp_path):
    path = tmp_path / "p.jsonl"
    with store.Store(path) as s:
        for i in range(3):
            s.append(record(i))
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b'"lanes":1', b'"lanes":7')  # checksum no longer matches
    path.write_bytes(b"\n".join(lines))
    warnings = io.StringIO()
    assert list(store.read(path, warn=warnings)) == ["k0", "k2"]
    assert "p.jsonl:2: ignoring a corrupt record" in warnings.getvalue()


def test_first_record_of_a_key_wins(tmp_path):
    path = tmp_path / "p.jsonl"
    first, second = record(0), record(0)
    second["metrics"] = {"fidelity": 0.0}
    path.write_bytes(store.seal(first) + store.seal(second))
    assert store.read(path)["k0"]["metrics"]["fidelity"] == 0.5


def test_a_second_writer_is_refused(tmp_path):
    path = tmp_path / "p.jsonl"
    with store.Store(path):
        with pytest.raises(ValueError, match="in use by another running sweep"):
            store.Store(path)
    store.Store(path).close()  # the lock is released on close


def test_clear(tmp_path):
    path = tmp_path / "p.jsonl"
    with store.Store(path) as s:
        s.append(record(0))
        s.clear()
        assert s.records == {}
        s.append(record(1))
    assert list(store.read(path)) == ["k1"]


def test_missing_store_reads_empty(tmp_path):
    assert store.read(tmp_path / "absent.jsonl") == {}
