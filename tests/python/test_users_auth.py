"""Users, permissions and authentication through python-arango."""

import uuid

import pytest
from arango.exceptions import (
    DocumentInsertError,
    PermissionUpdateError,
    ServerConnectionError,
    UserCreateError,
)

from conftest import PASSWORD


def fresh(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_users_and_permissions(client, sys_db):
    db_name, user = fresh("pdb"), fresh("u")
    sys_db.create_database(db_name)
    admin_db = client.db(db_name, username="root", password=PASSWORD)
    admin_db.create_collection("open")
    admin_db.create_collection("closed")
    sys_db.create_user(user, "secret", extra={"k": 1})
    assert any(u["username"] == user for u in sys_db.users())
    with pytest.raises(UserCreateError) as e:
        sys_db.create_user(user, "again")
    assert e.value.error_code == 1702

    sys_db.update_permission(user, "ro", db_name)
    sys_db.update_permission(user, "rw", db_name, "open")
    sys_db.update_permission(user, "none", db_name, "closed")
    assert sys_db.permission(user, db_name) == "ro"
    assert sys_db.permission(user, db_name, "open") == "rw"
    with pytest.raises(PermissionUpdateError):
        sys_db.update_permission(user, "bogus", db_name)

    as_user = client.db(db_name, username=user, password="secret", verify=True)
    as_user.collection("open").insert({"_key": "x"})
    with pytest.raises(DocumentInsertError) as e:
        as_user.collection("closed").insert({"_key": "x"})
    assert e.value.http_code == 403 and e.value.error_code == 11
    visible = [c["name"] for c in as_user.collections() if not c["system"]]
    assert visible == ["open"]

    sys_db.reset_permission(user, db_name)
    sys_db.delete_user(user)
    with pytest.raises(ServerConnectionError):
        client.db(db_name, username=user, password="secret", verify=True)
    sys_db.delete_database(db_name)


def test_jwt_login(client, sys_db):
    jwt_db = client.db("_system", username="root", password=PASSWORD, auth_method="jwt")
    assert jwt_db.version().startswith("3.12")
    with pytest.raises(Exception):
        client.db("_system", username="root", password="wrong", auth_method="jwt")
