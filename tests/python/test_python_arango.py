"""python-arango against the real server, as a user would use it."""

import uuid

import pytest
from arango.exceptions import (
    AQLQueryExecuteError,
    AQLQueryValidateError,
    CollectionCreateError,
    DatabaseCreateError,
    DocumentGetError,
    DocumentInsertError,
    DocumentReplaceError,
    DocumentRevisionError,
    ServerConnectionError,
)

from conftest import PASSWORD


def fresh(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def db(client, sys_db):
    name = fresh("db")
    sys_db.create_database(name)
    yield client.db(name, username="root", password=PASSWORD)
    sys_db.delete_database(name)


def test_version_and_server_info(sys_db):
    assert sys_db.version().startswith("3.12")
    assert sys_db.engine()["name"] == "rocksdb"
    assert sys_db.role() == "SINGLE"
    details = sys_db.version(details=True)
    assert details["details"]["server"] == "rango"


def test_wrong_password_is_refused(client):
    with pytest.raises(ServerConnectionError):
        client.db("_system", username="root", password="wrong", verify=True)


def test_databases(client, sys_db):
    name = fresh("d")
    assert sys_db.create_database(name)
    assert sys_db.has_database(name)
    with pytest.raises(DatabaseCreateError) as e:
        sys_db.create_database(name)
    assert e.value.error_code == 1207
    d = client.db(name, username="root", password=PASSWORD)
    props = d.properties()
    assert props["name"] == name and props["system"] is False
    assert sys_db.delete_database(name)
    assert not sys_db.has_database(name)


def test_collections(db):
    c = db.create_collection("people", sync=True, key_generator="autoincrement", key_increment=2, key_offset=1)
    props = c.properties()
    assert props["sync"] is True
    assert props["key_options"]["key_generator"] == "autoincrement"
    with pytest.raises(CollectionCreateError) as e:
        db.create_collection("people")
    assert e.value.error_code == 1207
    assert db.has_collection("people")
    names = [x["name"] for x in db.collections() if not x["system"]]
    assert names == ["people"]
    c.insert_many([{"n": i} for i in range(10)])
    assert c.count() == 10
    c.rename("humans")
    assert db.collection("humans").count() == 10
    db.collection("humans").truncate()
    assert db.collection("humans").count() == 0
    assert db.delete_collection("humans")


def test_documents(db):
    c = db.create_collection("docs")
    meta = c.insert({"_key": "a", "name": "Ann", "tags": ["x"]}, return_new=True)
    assert meta["_id"] == "docs/a" and meta["new"]["name"] == "Ann"
    assert c.get("a")["name"] == "Ann"
    assert c.has("a") and not c.has("zz")
    with pytest.raises(DocumentInsertError) as e:
        c.insert({"_key": "a"})
    assert e.value.error_code == 1210 and e.value.http_code == 409
    updated = c.update({"_key": "a", "age": 3}, return_new=True, return_old=True)
    assert updated["new"]["age"] == 3 and updated["old"].get("age") is None
    replaced = c.replace({"_key": "a", "only": True})
    assert c.get("a") == {"_key": "a", "_id": "docs/a", "_rev": replaced["_rev"], "only": True}
    with pytest.raises(DocumentRevisionError):
        c.replace({"_key": "a", "_rev": meta["_rev"], "x": 1}, check_rev=True)
    with pytest.raises(DocumentRevisionError):
        c.get({"_key": "a", "_rev": meta["_rev"]}, check_rev=True)
    c.insert({"_key": "a", "merged": 1}, overwrite_mode="update")
    assert c.get("a")["merged"] == 1 and c.get("a")["only"] is True
    assert c.delete("a")["_key"] == "a"
    assert c.get("a") is None
    with pytest.raises(DocumentReplaceError):
        c.replace({"_key": "gone"})


def test_many_documents_and_errors(db):
    c = db.create_collection("many")
    results = c.insert_many([{"_key": "1"}, {"_key": "1"}, {"_key": "2"}])
    assert results[0]["_key"] == "1"
    assert isinstance(results[1], DocumentInsertError) and results[1].error_code == 1210
    docs = c.get_many(["1", "2", "3"])
    assert [d["_key"] for d in docs] == ["1", "2"]
    c.update_many([{"_key": "1", "v": 1}, {"_key": "2", "v": 2}])
    assert c.get("2")["v"] == 2
    c.delete_many(["1", "2"])
    assert c.count() == 0


def test_import_bulk(db):
    c = db.create_collection("bulk")
    result = c.import_bulk([{"_key": str(i), "v": i} for i in range(500)] + [{"_key": "1"}], on_duplicate="error", details=True, halt_on_error=False)
    assert result["created"] == 500 and result["errors"] == 1
    with pytest.raises(DocumentInsertError):
        c.import_bulk([{"_key": "new"}, {"_key": "2"}], halt_on_error=True)
    assert not c.has("new")
    result = c.import_bulk([{"_key": "1", "w": 1}], on_duplicate="update")
    assert result["updated"] == 1
    assert c.get("1")["v"] == 1 and c.get("1")["w"] == 1
    assert c.count() == 500


def test_edges(db):
    db.create_collection("v")
    e = db.create_collection("e", edge=True)
    first = e.insert({"_from": "v/a", "_to": "v/b"})
    e.insert({"_from": "v/b", "_to": "v/c"})
    assert e.count() == 2
    assert e.get(first["_key"])["_to"] == "v/b"
    with pytest.raises(DocumentInsertError) as err:
        e.insert({"_from": "v/a"})
    assert err.value.error_code == 1233


def test_schema(db):
    schema = {"rule": {"properties": {"n": {"type": "integer"}}, "required": ["n"]}, "level": "strict", "message": "bad n"}
    c = db.create_collection("checked", schema=schema)
    c.insert({"n": 1})
    with pytest.raises(DocumentInsertError) as e:
        c.insert({"n": "one"})
    assert e.value.error_code == 1620 and "bad n" in e.value.error_message
    assert c.properties()["schema"]["level"] == "strict"


def test_unknown_collection_and_document(db):
    c = db.collection("nowhere")
    with pytest.raises(DocumentGetError) as e:
        c.get("x")
    assert e.value.error_code == 1203


def test_aql_cursor(db):
    c = db.create_collection("aqlc")
    c.insert_many([{"_key": str(i), "v": i} for i in range(25)])
    cursor = db.aql.execute("FOR d IN @@c FILTER d.v >= @min SORT d.v RETURN d.v", bind_vars={"@c": "aqlc", "min": 5}, batch_size=7, count=True)
    assert cursor.count() == 20
    assert list(cursor) == list(range(5, 25))
    result = list(db.aql.execute("FOR d IN aqlc COLLECT g = d.v % 2 WITH COUNT INTO n RETURN {g, n}"))
    assert result == [{"g": 0, "n": 13}, {"g": 1, "n": 12}]
    # A streaming cursor, read through python-arango's iterator batch by batch.
    streamed = db.aql.execute("FOR d IN aqlc SORT d.v RETURN d.v", stream=True, batch_size=4)
    assert list(streamed) == list(range(25))
    assert streamed.statistics()["scanned_full"] == 25
    list(db.aql.execute("FOR d IN aqlc FILTER d.v < 5 REMOVE d IN aqlc"))
    assert c.count() == 20
    assert [d["v"] for d in c.find({"v": 7})] == [7]


def test_aql_explain_validate_cache_and_failures(db, sys_db):
    c = db.create_collection("people")
    c.insert_many([{"_key": f"p{i}", "age": 20 + i, "friends": [{"name": f"f{i}{j}", "age": j} for j in range(3)]} for i in range(10)])
    # Plans as ArangoDB shows them, with the rules that ran.
    plan = db.aql.explain("FOR p IN people FILTER p._key == @k RETURN p.age", bind_vars={"k": "p3"})
    assert [n["type"] for n in plan["nodes"]][:2] == ["SingletonNode", "IndexNode"]
    assert "use-indexes" in plan["rules"]
    assert db.aql.validate("FOR p IN people RETURN p")["parsed"] is True
    with pytest.raises(AQLQueryValidateError):
        db.aql.validate("FOR p IN")
    # Array operators, DOCUMENT and WINDOW, run through the driver.
    rows = list(db.aql.execute("FOR p IN people FILTER p.age < 22 RETURN p.friends[* FILTER CURRENT.age > 0].name"))
    assert rows == [["f01", "f02"], ["f11", "f12"]]
    assert list(db.aql.execute("RETURN DOCUMENT('people/p4').age")) == [24]
    sums = list(db.aql.execute("FOR p IN people SORT p.age WINDOW {preceding: 1} AGGREGATE s = SUM(p.age) LIMIT 3 RETURN s"))
    assert sums == [20, 41, 43]
    # The results cache on demand.
    sys_db.aql.cache.configure(mode="demand")
    try:
        first = db.aql.execute("FOR p IN people RETURN p._key", cache=True)
        again = db.aql.execute("FOR p IN people RETURN p._key", cache=True)
        assert (first.cached(), again.cached()) == (False, True)
        assert list(again) == [f"p{i}" for i in range(10)]
    finally:
        sys_db.aql.cache.configure(mode="off")
    # A query that fails after writing leaves nothing behind.
    with pytest.raises(AQLQueryExecuteError) as failure:
        db.aql.execute("FOR i IN 1..3 INSERT {_key: CONCAT('n', i)} INTO people INSERT {_key: 'p1'} INTO people")
    assert failure.value.error_code == 1210
    assert c.count() == 10
