"""Redaction of URLs and DSNs, and the scrubbing of remembered secrets."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from throughput_expert import redact

USER = st.text(
    alphabet=st.characters(blacklist_characters=":@/?#", blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=12,
)
PASSWORD = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1)


@pytest.fixture(autouse=True)
def _empty_registry() -> Iterator[None]:
    redact.forget_secrets()
    yield
    redact.forget_secrets()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://me:p@ss/w#rd@127.0.0.1:80/x", "http://me:***@127.0.0.1:80/x"),
        ("http://me:s3cret@127.0.0.1/", "http://me:***@127.0.0.1/"),
        ("http://me@127.0.0.1/", "http://me@127.0.0.1/"),
        ("http://127.0.0.1:9090/api?x=1", "http://127.0.0.1:9090/api?x=1"),
        ("postgresql://u:pa#ss?x@h:5432/db", "postgresql://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=hunter22&sslmode=off",
            "postgresql://u@h/db?password=***&sslmode=off",
        ),
        ("http://a/b@c/d", "http://***@c/d"),
    ],
)
def test_redact_url_masks_the_password_only(url: str, shown: str) -> None:
    assert redact.redact_url(url) == shown


@given(USER, PASSWORD)
def test_no_piece_of_a_password_survives_in_the_userinfo(user: str, password: str) -> None:
    url = f"http://{user}:{password}@127.0.0.1:8080/path?x=1"
    shown = redact.redact_url(url)
    assert shown.endswith("@127.0.0.1:8080/path?x=1")
    assert shown.rpartition("@")[0] in (f"http://{user}:***", "http://***:***")


@pytest.mark.parametrize(
    ("dsn", "shown", "secret"),
    [
        ("host=h password=abc123 dbname=x", "host=h password=*** dbname=x", "abc123"),
        ("host=h password='a b\\' c#?' user=u", "host=h password=*** user=u", "a b' c#?"),
        ("host = h  password = 'x y z'", "host = h  password=***", "x y z"),
        ("dbname=tpx user=me", "dbname=tpx user=me", None),
    ],
)
def test_redact_dsn_masks_libpq_passwords(dsn: str, shown: str, secret: str | None) -> None:
    assert redact.redact_dsn(dsn) == shown
    if secret:
        assert redact.scrub(f"error: {secret}") == "error: ***"


def test_scrub_masks_remembered_secrets_and_their_encoded_forms() -> None:
    redact.remember_secret("p@ss/word")
    line = "tpx: http://me:p%40ss%2Fword@h/: refused p@ss/word"
    assert "p@ss" not in redact.scrub(line)
    assert "p%40ss" not in redact.scrub(line)


def test_basic_auth_value_remembers_the_password_and_the_pair() -> None:
    value = redact.basic_auth_value("me", "hunter22")
    pair = base64.b64encode(b"me:hunter22").decode()
    assert value == f"Basic {pair}"
    assert redact.scrub(f"{pair} hunter22") == "*** ***"


def test_short_strings_are_not_remembered() -> None:
    redact.remember_secret("ab")
    assert redact.scrub("abc ab") == "abc ab"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "db_password",
        "dbPassword",
        "apiKey",
        "api-key",
        "token",
        "client_secret",
        "PGPASS",
        "auth",
    ],
)
def test_secret_keys(key: str) -> None:
    assert redact.secret_key(key)


@pytest.mark.parametrize(
    "key", ["cpu", "throughput_rps", "cores", "service", "bypass_cache", "author", "compass"]
)
def test_ordinary_keys(key: str) -> None:
    assert not redact.secret_key(key)


def test_a_usage_error_shows_no_password_typed_in_the_wrong_place() -> None:
    import subprocess
    import sys

    url = "http://me:hunter2222@127.0.0.1/"
    done = subprocess.run(
        [sys.executable, "-m", "throughput_expert.cli", "analyze", "--metrics", "m.json", url],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "unrecognized arguments: http://me:***@127.0.0.1/" in done.stderr
    assert "hunter2222" not in done.stderr


def test_a_locust_host_that_is_no_url_is_refused_without_its_password(tmp_path: Path) -> None:
    from throughput_expert.errors import InputError
    from throughput_expert.measure.locust_driver import LocustDriver

    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text("from locust import HttpUser\n")
    driver = LocustDriver(str(locustfile), host="http://me:pa/ss9999@127.0.0.1/")
    with pytest.raises(InputError) as caught:
        driver.check_target(allow_remote=False)
    assert "not a URL with a host" in caught.value.one_line()
    assert "ss9999" not in caught.value.one_line()
