"""Format detection and merging of several metrics files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from throughput_expert.errors import InputError
from throughput_expert.sources import load_metrics


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_files_merge_first_wins_and_conflicts_become_notes(tmp_path: Path) -> None:
    a = write(tmp_path, "a.json", json.dumps({"throughput_rps": 1000, "utilization": {"cpu": 0.5}}))
    b = write(
        tmp_path,
        "b.json",
        json.dumps({"throughput_rps": 1500, "cores": 4, "utilization": {"disk_io": 0.2}}),
    )
    m = load_metrics([a, b])
    assert m.throughput_rps == 1000
    assert m.cores == 4
    assert m.utilization == {"cpu": 0.5, "disk_io": 0.2}
    assert any(n.startswith("conflict: throughput_rps is 1000") for n in m.notes)
    assert [i.source for i in m.inputs] == [str(a), str(b)]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"throughput_rps": 1', "malformed JSON"),
        ('{"throughput_rps": NaN}', "NaN is not a number JSON allows"),
        ("[1, 2]", "unknown format"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        ("hello world, this is not metrics\n", "line 1"),
        ('{"format": "something-else"}', "unknown format"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_files_give_one_line(tmp_path: Path, content: str | bytes, words: str) -> None:
    path = write(tmp_path, "m.txt", content)
    with pytest.raises(InputError) as err:
        load_metrics([path])
    assert words in err.value.one_line()
    assert "\n" not in err.value.one_line()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No such file"):
        load_metrics([tmp_path / "nope.json"])
