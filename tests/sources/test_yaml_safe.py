"""YAML from users is plain data (issue 12): anchors and aliases are refused everywhere (a
"billion laughs" of under 500 bytes exhausted memory through --defaults and --rules), nesting
and size are bounded, and any text gives a value or one ``InputError``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support import address_space_cap, only_line, timed_tpx

from throughput_expert.errors import InputError
from throughput_expert.sources.settings import MAX_SETTINGS_BYTES, load_settings, read_yaml
from throughput_expert.sources.yaml_safe import MAX_DEPTH, load_yaml

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "throughput_expert" / "examples" / "message-consumer.json"
PROFILE = ROOT / "tests" / "sources" / "profiles" / "fixtures" / "tiny.collapsed.txt"
MEMORY_CAP = 2 << 30  # a regression fails with MemoryError instead of eating the machine
TIMEOUT_S = 60  # the fixed code answers in about a second; the old one ran out of memory


def _laughs() -> str:
    """Nine levels of nine aliases: 9**9 "lol"s once expanded, in under 400 bytes."""
    lol = ",".join(['"lol"'] * 9)
    lines, previous = [f"a: &a [{lol}]"], "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + "\n"


# Where the old code turned the bomb into a string (str(w) of a play's triggers, re.compile(str())
# of a rule's pattern), so that it was expanded.
DEFAULTS_BOMB = _laughs() + (
    "plays: [{id: x, when: *i, optimization: o, rationale: r, horizon: quick, effort: low, "
    "risk: low, quantify: none}]\n"
)
RULES_BOMB = _laughs() + "rules: [{category: compute, name: *i}]\n"


def tpx(*argv: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    return timed_tpx(*argv, cwd=cwd, timeout=TIMEOUT_S, preexec_fn=address_space_cap(MEMORY_CAP))


def refused_alias(run: subprocess.CompletedProcess[str], source: str) -> None:
    assert run.returncode == 2, run.stderr
    line = only_line(run.stderr)
    assert line.startswith(f"{source}: line 1: YAML anchors and aliases are not allowed")


@pytest.mark.parametrize(
    ("name", "text", "argv"),
    [
        ("defaults.yaml", DEFAULTS_BOMB, ("analyze", "--metrics", str(DEMO), "--defaults")),
        ("rules.yaml", RULES_BOMB, ("find-bottleneck", "--profile", str(PROFILE), "--rules")),
        (
            "arch.yaml",
            _laughs(),
            ("scaling-plan", "--target-rps", "100", "--current-architecture"),
        ),
    ],
)
def test_a_billion_laughs_is_refused_at_once(
    tmp_path: Path, name: str, text: str, argv: tuple[str, ...]
) -> None:
    assert len(text.encode()) < 500
    (tmp_path / name).write_text(text)
    run, took = tpx(*argv, name, "--format", "json", cwd=tmp_path)
    refused_alias(run, name)
    assert took < TIMEOUT_S / 2
    assert run.stdout == ""


def test_a_lone_alias_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^f\.yaml: line 3: .*an alias here"):
        load_yaml("a: 1\nb: 2\nc: *nowhere\n", "f.yaml")


def test_an_anchor_alone_is_refused_too() -> None:
    with pytest.raises(InputError, match=r"line 2: .*an anchor here"):
        load_yaml("a: 1\nb: &x 2\n", "f.yaml")


def test_deep_nesting_is_refused_without_recursion() -> None:
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert load_yaml(ok, "f.yaml") is not None
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(InputError, match=f"nested deeper than {MAX_DEPTH} levels"):
        load_yaml(deep, "f.yaml")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("when: 2020-02-30\n", "line 1: a value YAML cannot read: day is out of range"),
        ("n: " + "9" * 5000 + "\n", "Exceeds the limit (4300 digits)"),
        ("a: !!python/object/apply:os.system [true]\n", "could not determine a constructor"),
        ("--- a\n--- b\n", "line 2: malformed YAML"),
        ("a: [1\n", "line 2: malformed YAML"),
        ("? [1]\n: 2\n", "found unhashable key"),
    ],
)
def test_what_safe_load_raised_otherwise_is_one_input_error(text: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        load_yaml(text, "f.yaml")
    line = str(caught.value)
    assert line.startswith("f.yaml: ") and words in line and "\n" not in line
    assert "set_int_max_str_digits" not in line


def test_a_settings_file_is_read_no_further_than_its_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_SETTINGS_BYTES + "\n")
    with pytest.raises(InputError, match="larger than 256 KiB"):
        read_yaml(path)
    path.write_text("thresholds: {}\n# " + "x" * (MAX_SETTINGS_BYTES - 100) + "\n")
    assert read_yaml(path) == {"thresholds": {}}


def test_the_packaged_data_loads_with_the_same_loader() -> None:
    settings = load_settings()
    assert settings.plays and settings.rules and settings.fixes


# --- hostile text: a value or one InputError, nothing else ---------------------------------------

_YAMLISH = st.text(
    alphabet=st.sampled_from([*list("&*!|>[]{}:-,?#%@`'\"\\ \t\n.0123456789abxyz<=~"), "\ufeff"]),
    max_size=200,
)


def _value_or_input_error(text: str) -> None:
    try:
        load_yaml(text, "hostile.yaml")
    except InputError as error:
        assert "\n" not in str(error)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_value_or_an_input_error(text: str) -> None:
    _value_or_input_error(text)


@settings(max_examples=500, deadline=None)
@given(_YAMLISH)
def test_yaml_like_text_gives_a_value_or_an_input_error(text: str) -> None:
    _value_or_input_error(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["[", "{", "- ", "a: ", "&x ", "*x", "!!int ", "]", "}", "\n"])),
    st.sampled_from(["", "1", "2020-13-45", "0x", "1e9999", "!!binary zz", "~"]),
)
def test_built_documents_give_a_value_or_an_input_error(parts: list[str], tail: str) -> None:
    _value_or_input_error("".join(parts) + tail)


def test_the_packaged_data_reads_the_same_with_the_fast_loader() -> None:
    """The package's YAML is parsed with libyaml's C safe loader (it is read on every run); it
    must give exactly what the guarded loader gives for users' files."""
    from importlib import resources

    from throughput_expert.sources.settings import _load_packaged
    from throughput_expert.sources.yaml_safe import load_yaml

    files = [
        (stage, f)
        for stage in ("advisors", "sources")
        for f in resources.files(f"throughput_expert.{stage}").joinpath("data").iterdir()
        if f.name.endswith(".yaml")
    ]
    assert len(files) >= 7
    for stage, f in files:
        text = f.read_text("utf-8")
        assert _load_packaged(text, f.name) == load_yaml(text, f.name), (stage, f.name)


@pytest.fixture(params=["libyaml", "pure-python"])
def loader_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both loaders: libyaml's (where PyYAML has it) and the pure-Python one used without it."""
    import throughput_expert.sources.yaml_safe as yaml_safe

    if request.param == "pure-python":
        monkeypatch.setattr(yaml_safe, "_FAST", False)
    elif not yaml_safe._FAST:
        pytest.skip("this PyYAML has no libyaml")
    return str(request.param)


@pytest.mark.parametrize(
    ("text", "line", "first"),
    [
        ("cores: 8\nmemory: 4\ncores: 16\n", "line 3", "line 1"),
        ("components:\n  - name: a\n    cores: 1\n    cores: 2\n", "line 4", "line 3"),
        ("{1: a, 1.0: b}\n", "line 1", "line 1"),  # the same key written two ways
        ('a: 1\n"a": 2\n', "line 2", "line 1"),
    ],
)
def test_a_key_written_twice_is_refused_with_both_lines(
    loader_kind: str, text: str, line: str, first: str
) -> None:
    # PyYAML keeps the last value silently: a component's first "cores" vanished without a word
    with pytest.raises(InputError) as err:
        load_yaml(text, "arch.yaml")
    assert err.value.field == line
    assert "twice" in str(err.value) and f"first at {first}" in str(err.value)


def test_repeated_values_and_distinct_keys_still_load(loader_kind: str) -> None:
    assert load_yaml("a: [1, 1]\nb: {a: 1}\nc: {a: 2}\n", "x.yaml") == {
        "a": [1, 1],
        "b": {"a": 1},
        "c": {"a": 2},
    }


def test_the_value_cap_holds_without_libyaml_too(loader_kind: str) -> None:
    from throughput_expert.sources.yaml_safe import MAX_NODES

    with pytest.raises(InputError, match=f"more than {MAX_NODES:,} values"):
        load_yaml("[" + ",".join(["1"] * (MAX_NODES + 10)) + "]", "big.yaml")
    assert len(load_yaml("[" + ",".join(["1"] * 1000) + "]", "ok.yaml")) == 1000  # type: ignore[arg-type]
