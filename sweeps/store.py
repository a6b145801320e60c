"""The results store: one JSON line per finished design point, appended atomically.

Why it is loss-free:
  - only the sweep's parent process writes (workers return records to it), and it holds an
    exclusive ``flock`` on the file, so two sweeps cannot interleave in one store;
  - a record is one ``os.write`` of the whole line (``O_APPEND``) followed by ``fsync`` before
    the point counts as finished, so a crash after that loses nothing;
  - each line carries a SHA-256 of its content. A crash *during* a write can leave only a
    torn last line (no final newline): reading ignores it, and opening for append truncates
    it away so the next record starts on a clean line. A line whose checksum does not match is
    ignored with a warning (that point is simply evaluated again).

Lines are Python's JSON (a metric the evaluator could not compute is written as NaN).
Record fields: ``key`` (grid.point_key), ``status`` ("ok" or "not_applicable"), ``point``,
``metrics`` (the evaluator's flat dict; for "not_applicable" the reason under "reason"),
``seconds`` (evaluation wall time), ``sha`` (checksum of the other fields).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
from pathlib import Path

STATUSES = ("ok", "not_applicable")


def seal(record: dict) -> bytes:
    """The record as one checksummed JSON line (bytes, ending in a newline)."""
    body = {key: value for key, value in record.items() if key != "sha"}
    if body.get("status") not in STATUSES:
        raise ValueError(f"record status must be one of {STATUSES}, got {body.get('status')!r}")
    body["sha"] = _checksum(body)
    return (json.dumps(body, sort_keys=True, separators=(",", ":")) + "\n").encode()


def read(path: Path, warn=None) -> dict[str, dict]:
    """Every intact record in the store by key (the first one wins if a key repeats);
    warnings about skipped lines go to ``warn`` (default: stderr)."""
    path, warn = Path(path), warn or sys.stderr
    if not path.exists():
        return {}
    records = {}
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines[-1]:
        print(f"{path}: ignoring a torn last record ({len(lines[-1])} bytes, no newline)",
              file=warn)
    for number, line in enumerate(lines[:-1], start=1):
        record = _unseal(line)
        if record is None:
            print(f"{path}:{number}: ignoring a corrupt record", file=warn)
            continue
        records.setdefault(record["key"], record)
    return records


class Store:
    """The store at ``path``, opened for appending (a context manager: it holds the lock)."""

    def __init__(self, path, warn=None):
        warn = warn or sys.stderr
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise ValueError(f"--out: {self.path} is in use by another running sweep") from None
        _drop_torn_tail(self._fd, self.path, warn)
        self.records = read(self.path, warn)

    def append(self, record: dict) -> None:
        """Write one record durably; it is in ``records`` once this returns."""
        line = seal(record)
        written = os.write(self._fd, line)
        # A regular file takes the whole line in one write; anything else is a disk fault
        # that must not pass as success (the torn tail is cleaned up on the next open).
        if written != len(line):
            raise OSError(f"{self.path}: short write ({written} of {len(line)} bytes)")
        os.fsync(self._fd)
        self.records.setdefault(record["key"], record)

    def clear(self) -> None:
        """Discard every record (``--fresh``); done under the lock, so no sweep is using it."""
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        self.records = {}

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing releases the flock
            self._fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _checksum(body: dict) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _unseal(line: bytes) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or "sha" not in record or "key" not in record:
        return None
    body = {key: value for key, value in record.items() if key != "sha"}
    return record if _checksum(body) == record["sha"] else None


def _drop_torn_tail(fd: int, path: Path, warn) -> None:
    """Truncate an unterminated last line so the next append starts a fresh line."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    data = os.pread(fd, size, 0)
    keep = data.rfind(b"\n") + 1
    if keep < size:
        print(f"{path}: dropping a torn last record ({size - keep} bytes) left by an "
              f"interrupted write", file=warn)
        os.ftruncate(fd, keep)
        os.fsync(fd)
