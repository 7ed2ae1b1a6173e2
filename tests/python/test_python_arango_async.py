"""python-arango-async against the real server."""

import uuid

import pytest
from arangoasync import ArangoClient
from arangoasync.auth import Auth
from arangoasync.exceptions import DocumentInsertError

from conftest import PASSWORD


@pytest.mark.asyncio
async def test_async_driver_round_trip(rango):
    async with ArangoClient(hosts=rango.url) as client:
        sys_db = await client.db("_system", auth=Auth(username="root", password=PASSWORD), verify=True)
        name = f"adb_{uuid.uuid4().hex[:8]}"
        assert await sys_db.create_database(name)
        db = await client.db(name, auth=Auth(username="root", password=PASSWORD))
        col = await db.create_collection("things")
        meta = await col.insert({"_key": "t1", "v": 1}, return_new=True)
        assert meta["new"]["v"] == 1
        assert (await col.get("t1"))["v"] == 1
        with pytest.raises(DocumentInsertError) as e:
            await col.insert({"_key": "t1"})
        assert e.value.error_code == 1210
        await col.update({"_key": "t1", "w": 2})
        assert (await col.get("t1"))["w"] == 2
        assert await col.count() == 1
        await col.delete("t1")
        assert await col.count() == 0
        assert await sys_db.delete_database(name)
