"""Reading an architecture sentence ("Single consumer, PostgreSQL sink") with a small, documented
vocabulary; what it cannot read it lists, never guesses.

Vocabulary (case-insensitive):
- counts: a number, or ``single``/``one``, ``two`` ... ``ten``, ``a``/``an``;
- component words: consumer(s), worker(s), processor(s) -> worker; service(s), api(s), server(s),
  app(s), instance(s), node(s), pod(s), replica(s) -> service; queue(s), topic(s), broker(s),
  stream(s) -> queue; database(s), db(s), store(s), sink(s) -> database; cache(s) -> cache;
- products: PostgreSQL/Postgres, MySQL, MariaDB, Oracle, SQL Server, MongoDB, Cassandra,
  DynamoDB, Elasticsearch, ClickHouse, SQLite -> database; Redis, Memcached -> cache; Kafka,
  RabbitMQ, SQS, Pulsar, NATS, Kinesis -> queue.
Clauses are split on commas, semicolons, "and", "with", "->", "→" and "+".

The sentence comes from a task file another program wrote: every pattern here runs in linear
time (no repetition next to another that could match the same characters, so no match is
retried over a run of spaces), and a count above the bound for workers or instances
(``quantity.COUNT_BOUNDS``) is an ``InputError``, not a pool of a billion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from throughput_expert.model.architecture import ComponentKind
from throughput_expert.model.quantity import check_count
from throughput_expert.model.system import Sink

__all__ = ["Part", "read_sentence", "sink_of"]

_COUNTS = {
    "a": 1,
    "an": 1,
    "single": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_WORDS: dict[str, ComponentKind] = {
    "consumer": "worker",
    "worker": "worker",
    "processor": "worker",
    "service": "service",
    "api": "service",
    "server": "service",
    "app": "service",
    "application": "service",
    "instance": "service",
    "node": "service",
    "pod": "service",
    "replica": "service",
    "queue": "queue",
    "topic": "queue",
    "broker": "queue",
    "stream": "queue",
    "database": "database",
    "db": "database",
    "store": "database",
    "sink": "database",
    "cache": "cache",
}
_PRODUCTS: dict[str, tuple[str, ComponentKind]] = {
    "postgresql": ("PostgreSQL", "database"),
    "postgres": ("PostgreSQL", "database"),
    "mysql": ("MySQL", "database"),
    "mariadb": ("MariaDB", "database"),
    "oracle": ("Oracle", "database"),
    "sql server": ("SQL Server", "database"),
    "mongodb": ("MongoDB", "database"),
    "mongo": ("MongoDB", "database"),
    "cassandra": ("Cassandra", "database"),
    "dynamodb": ("DynamoDB", "database"),
    "elasticsearch": ("Elasticsearch", "database"),
    "clickhouse": ("ClickHouse", "database"),
    "sqlite": ("SQLite", "database"),
    "redis": ("Redis", "cache"),
    "memcached": ("Memcached", "cache"),
    "kafka": ("Kafka", "queue"),
    "rabbitmq": ("RabbitMQ", "queue"),
    "sqs": ("SQS", "queue"),
    "pulsar": ("Pulsar", "queue"),
    "nats": ("NATS", "queue"),
    "kinesis": ("Kinesis", "queue"),
}
# No "\s*" around the separators: over a run of spaces that leads to no separator it would be
# tried, and fail, from every space in the run (80 KB of spaces: minutes). Clauses are stripped.
_SPLIT = re.compile(
    r"(?:,|;|->|→|\+|\b(?:and|with|behind|in front of|via|through|into|feeding|then|"
    r"writing to|reading from|writes to|reads from|to|from)\b)",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z0-9]++")
# Every product name in one pass (longest first, so "postgresql" is not read as "postgres").
_PRODUCT = re.compile(
    r"\b(?:" + "|".join(re.escape(k) for k in sorted(_PRODUCTS, key=len, reverse=True)) + r")\b"
)
_MAX_DIGITS = 18  # a longer number is over every bound; int() of 5,000 digits would raise


@dataclass(frozen=True)
class Part:
    """One component read from a clause: its kind, a name, a count if given, the clause."""

    kind: ComponentKind
    name: str
    count: int | None
    clause: str


def read_sentence(text: str) -> tuple[list[Part], list[str]]:
    """(components read, clauses that could not be read)."""
    parts: list[Part] = []
    unread: list[str] = []
    for clause in (c for c in _SPLIT.split(text) if c.strip()):
        part = _clause(clause.strip())
        if part is None:
            unread.append(clause.strip())
        else:
            parts.append(part)
    return parts, unread


def _clause(clause: str) -> Part | None:
    low = clause.lower()
    tokens = _TOKEN.findall(low)
    named = {m.group() for m in _PRODUCT.finditer(low)}
    product = next((v for k, v in _PRODUCTS.items() if k in named), None)
    at = max((i for i, t in enumerate(tokens) if _kind(t)), default=None)
    kind = _kind(tokens[at]) if at is not None else None
    if product is not None and kind in (None, "database", "cache", "queue"):
        kind = product[1]
    if kind is None:
        return None
    if product is not None and kind == product[1]:
        name = product[0]
    else:
        name = tokens[at].rstrip("s") if at is not None else kind
    return Part(kind, name, _count(tokens, at), clause)


def _kind(token: str) -> ComponentKind | None:
    return _WORDS.get(token) or (_WORDS.get(token[:-1]) if token.endswith("s") else None)


def _count(tokens: list[str], at: int | None) -> int | None:
    """A number or count word just before the component word (at most 3 tokens before)."""
    if at is None:
        return None
    for token in reversed(tokens[max(0, at - 3) : at]):
        if token.isdigit():
            number = int(token) if len(token) <= _MAX_DIGITS else 10**_MAX_DIGITS
            shown = f"{token} {tokens[at]}"
            return int(
                check_count(number, shown, source="context", field="architecture", kind="workers")
            )
        if token in _COUNTS:
            return _COUNTS[token]
    return None


def sink_of(text: str | None) -> Sink | None:
    """What the service writes to: the last database the sentence names (the durable end of a
    pipeline), else the last queue, else the last cache; None when it names none."""
    if not text:
        return None
    parts, _ = read_sentence(text)
    for kind in ("database", "queue", "cache"):
        found = [p for p in parts if p.kind == kind]
        if found:
            return Sink(found[-1].name, found[-1].kind)
    return None
