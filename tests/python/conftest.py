"""Fixtures: a real rango server on a free loopback port, and driver clients for it."""

import os
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

PASSWORD = "py-test-pw"
START_TIMEOUT_S = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RangoServer:
    def __init__(self, binary, directory, extra_args=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.directory = directory
        self.proc = subprocess.Popen(
            [binary, "server", "--server.endpoint", f"tcp://127.0.0.1:{self.port}",
             "--database.directory", os.path.join(directory, "data"),
             "--log.file", os.path.join(directory, "rango.log"), *extra_args],
            env={**os.environ, "ARANGO_ROOT_PASSWORD": PASSWORD},
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(self.url + "/_admin/server/availability", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"rango exited with {self.proc.returncode}")
                if time.monotonic() > deadline:
                    raise RuntimeError("rango did not start in time")
                time.sleep(0.02)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def rango():
    binary = os.environ.get("RANGO_BIN")
    if not binary:
        pytest.fail("set RANGO_BIN to the rango binary (scripts/test does)")
    with tempfile.TemporaryDirectory() as d:
        server = RangoServer(binary, d)
        yield server
        server.stop()


@pytest.fixture(scope="session")
def client(rango):
    from arango import ArangoClient

    return ArangoClient(hosts=rango.url)


@pytest.fixture(scope="session")
def sys_db(client):
    return client.db("_system", username="root", password=PASSWORD, verify=True)
