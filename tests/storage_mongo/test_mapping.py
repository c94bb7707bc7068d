"""The MongoDB document mapping, pure: no server, no mock."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.storage import Document, Query
from securebot.errors import ConfigError, CorruptRecordError, StorageError
from securebot.storage import mongo_mapping as m
from securebot.storage.mongo import MongoSettings

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
NAMES = st.text(min_size=1, max_size=12)
DOCS = st.builds(
    Document,
    collection=NAMES,
    scope=st.just("global") | st.integers(1, 2**63 - 1).map(str),
    key=NAMES,
    body=st.dictionaries(st.text(), JSON, max_size=5),
    lookups=st.dictionaries(st.text(min_size=1).filter(lambda s: "\x00" not in s), st.text()),
    owners=st.lists(st.integers(1, 2**63 - 1), max_size=3).map(tuple),
    schema=st.integers(1, 50),
    expires_at=st.none() | st.floats(1e9, 4e9),
)


@given(DOCS, st.integers(1, 10**6))
def test_documents_round_trip_exactly(doc: Document, revision: int) -> None:
    raw = m.document_to_mongo(doc, revision)
    assert m.document_from_mongo(raw) == Document(
        collection=doc.collection,
        scope=doc.scope,
        key=doc.key,
        body=doc.body,
        lookups=doc.lookups,
        owners=doc.owners,
        schema=doc.schema,
        expires_at=doc.expires_at,
        revision=revision,
    )
    # bodies are JSON text: keys with "." or "$" and 64-bit+ ints never reach BSON as fields
    assert isinstance(raw["b"], str)
    assert raw["_id"] == m.record_id(doc.collection, doc.scope, doc.key)


@given(st.tuples(NAMES, NAMES, NAMES), st.tuples(NAMES, NAMES, NAMES))
def test_ids_are_injective(one: tuple[str, str, str], two: tuple[str, str, str]) -> None:
    assert (m.record_id(*one) == m.record_id(*two)) == (one == two)
    assert (m.counter_id(*one) == m.counter_id(*two)) == (one == two)


def test_ids_do_not_collide_on_separators() -> None:
    assert m.record_id("a:b", "c", "d") != m.record_id("a", "b:c", "d")
    assert m.setting_id("n", "1", "p", 'x"],["y') != m.setting_id("n", "1", 'p"', "x")


def test_an_update_moves_the_revision_and_the_ttl_date() -> None:
    doc = Document("c", "1", "k", {"a": 1}, expires_at=2_000_000_000.0)
    update = m.write_update(doc)
    assert update["$inc"] == {"r": 1}
    assert update["$set"]["x"] == dt.datetime.fromtimestamp(2_000_000_000, dt.UTC)
    assert "$unset" not in update
    forever = m.write_update(Document("c", "1", "k", {}))
    assert forever["$unset"] == {"x": ""}
    assert forever["$set"]["e"] is None


def test_lookups_are_one_multikey_array_queried_with_all() -> None:
    doc = Document("c", "1", "k", {}, lookups={"user": "t1", "kind": "warn"})
    assert m.document_to_mongo(doc, 1)["l"] == ["kind\x00warn", "user\x00t1"]
    selector = m.find_filter(Query("c", "1", {"user": "t1", "kind": "warn"}), now=5.0)
    clauses = selector["$and"]
    assert {"c": "c"} in clauses
    assert {"s": "1"} in clauses
    assert {"l": {"$all": ["kind\x00warn", "user\x00t1"]}} in clauses
    assert {"$or": [{"e": None}, {"e": {"$gt": 5.0}}]} in clauses


def test_paging_cursor_is_exclusive_on_scope_then_key() -> None:
    selector = m.find_filter(Query("c", after=("1", "k9"), limit=10), now=0.0)
    assert {"$or": [{"s": {"$gt": "1"}}, {"s": "1", "k": {"$gt": "k9"}}]} in selector["$and"]
    assert m.find_sort() == [("s", 1), ("k", 1)]
    items = [Document("c", "1", f"k{i}", {}) for i in range(3)]
    assert m.next_cursor(items, limit=3, fetched=4) == ("1", "k2")
    assert m.next_cursor(items, limit=3, fetched=3) is None
    assert m.next_cursor([], limit=3, fetched=0) is None


def test_non_json_values_are_refused_clearly() -> None:
    with pytest.raises(StorageError, match="JSON"):
        m.document_to_mongo(Document("c", "1", "k", {"s": {1, 2}}), 1)
    with pytest.raises(StorageError, match="JSON"):
        m.setting_to_mongo("ns", "1", "p", "n", float("nan"), None)
    with pytest.raises(StorageError, match="JSON"):
        m.setting_to_mongo("ns", "1", "p", "n", float("inf"), None)


def test_foreign_or_damaged_documents_raise_corrupt_record_without_content() -> None:
    raw = m.document_to_mongo(Document("c", "1", "k", {"secret": "s3cr3t"}), 1)
    for damage in ({"b": "{not json"}, {"r": None}, {"l": ["no-separator"]}):
        broken = {**raw, **damage}
        with pytest.raises(CorruptRecordError) as caught:
            m.document_from_mongo(broken)
        assert "s3cr3t" not in str(caught.value)
    del raw["c"]
    with pytest.raises(CorruptRecordError, match="not a securebot document"):
        m.document_from_mongo(raw)
    with pytest.raises(CorruptRecordError, match="malformed"):
        m.setting_from_mongo({"_id": "x", "ns": "n"})


def test_settings_round_trip_and_filters() -> None:
    raw = m.setting_to_mongo("mod", "1", "guild:1", "roles", {"a.b": [1, 2**70]}, 42)
    row = m.setting_from_mongo(raw)
    assert (row.namespace, row.scope, row.path, row.name, row.owner) == (
        "mod",
        "1",
        "guild:1",
        "roles",
        42,
    )
    assert row.value == {"a.b": [1, 2**70]}
    assert json.loads(raw["j"]) == row.value
    assert m.settings_filter(namespace="mod", owner=42) == {"ns": "mod", "o": 42}
    assert m.settings_filter() == {}


def test_index_definitions() -> None:
    names = m.CollectionNames("sb_")
    specs = {(s.collection, s.options["name"]): s for s in m.index_specs(names)}
    unique = specs[("sb_records", "by_scope")]
    assert unique.keys == [("c", 1), ("s", 1), ("k", 1)]
    assert unique.options["unique"] is True
    ttl = specs[("sb_records", "expiry_ttl")]
    assert ttl.keys == [("x", 1)]
    assert ttl.options["expireAfterSeconds"] == 0
    assert specs[("sb_records", "by_lookup")].keys[:2] == [("c", 1), ("l", 1)]
    assert {c for c, _ in specs} == {"sb_records", "sb_counters", "sb_settings"}


def test_settings_are_production_safe_and_validated() -> None:
    settings = MongoSettings(
        uri="mongodb://admin:pw@db1,db2/?replicaSet=rs0",
        tls_ca_file="/etc/ca.pem",
        tls_certificate_key_file="/etc/client.pem",
        tls_certificate_key_password="keypw",
        x509_auth=True,
    )
    kwargs = settings.client_kwargs()
    assert kwargs["w"] == "majority"
    assert kwargs["journal"] is True
    assert kwargs["retryWrites"] is True
    assert kwargs["readConcernLevel"] == "majority"
    assert kwargs["tls"] is True
    assert kwargs["tlsCAFile"] == "/etc/ca.pem"
    assert kwargs["tlsCertificateKeyFile"] == "/etc/client.pem"
    assert kwargs["authMechanism"] == "MONGODB-X509"
    assert "pw" not in repr(settings)
    assert "keypw" not in repr(settings)
    assert MongoSettings(uri="mongodb://h", write_concern=2).client_kwargs()["w"] == 2
    with pytest.raises(ConfigError, match="mongodb://"):
        MongoSettings(uri="http://h")
    with pytest.raises(ConfigError, match="x509"):
        MongoSettings(uri="mongodb://h", x509_auth=True)
    with pytest.raises(ConfigError, match="write_concern"):
        MongoSettings(uri="mongodb://h", write_concern=0)
