"""Superuser JWTs signed with --server.jwt-secret-keyfile, through python-arango."""

import os
import tempfile
import time

import jwt
import pytest

from conftest import RangoServer


@pytest.fixture(scope="module")
def keyed_server():
    binary = os.environ["RANGO_BIN"]
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "secret"), "w") as f:
            f.write("py-super-secret")
        server = RangoServer(binary, d, ["--server.jwt-secret-keyfile", os.path.join(d, "secret")])
        yield server
        server.stop()


def superuser_token(secret, **claims):
    payload = {"iss": "arangodb", "server_id": "pytest", **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def test_superuser_token_is_accepted(keyed_server):
    from arango import ArangoClient

    client = ArangoClient(hosts=keyed_server.url)
    db = client.db("_system", superuser_token=superuser_token("py-super-secret"))
    assert db.version().startswith("3.12")
    assert db.create_database("made_by_superuser")


def test_bad_superuser_tokens_are_refused(keyed_server):
    from arango import ArangoClient
    from arango.exceptions import ServerVersionError

    client = ArangoClient(hosts=keyed_server.url)
    for token in [
        superuser_token("wrong-secret"),
        superuser_token("py-super-secret", exp=int(time.time()) - 10),
        jwt.encode({"iss": "arangodb", "server_id": "x"}, key=None, algorithm="none"),
    ]:
        db = client.db("_system", superuser_token=token)
        with pytest.raises(ServerVersionError) as e:
            db.version()
        assert e.value.http_code == 401
