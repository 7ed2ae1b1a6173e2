// arangojs against the real rango binary: the same calls an application makes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database, aql } from "arangojs";

const PASSWORD = "js-test-pw";
const START_TIMEOUT_MS = 30000;
let server, dir, url;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

before(async () => {
  const bin = process.env.RANGO_BIN;
  assert.ok(bin, "set RANGO_BIN to the rango binary (scripts/test does)");
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), "rango-js-"));
  url = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["server", "--server.endpoint", `tcp://127.0.0.1:${port}`, "--database.directory", join(dir, "data"),
    "--log.file", join(dir, "rango.log")], { env: { ...process.env, ARANGO_ROOT_PASSWORD: PASSWORD }, stdio: "inherit" });
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(`${url}/_admin/server/availability`)).ok) break;
    } catch {}
    assert.ok(Date.now() < deadline, "rango did not start in time");
    await new Promise((r) => setTimeout(r, 20));
  }
});

after(() => {
  server?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const system = () => new Database({ url, auth: { username: "root", password: PASSWORD } });

test("version and databases", async () => {
  const db = system();
  const v = await db.version();
  assert.equal(v.server, "arango");
  assert.match(v.version, /^3\.12\./);
  await db.createDatabase("jsdb");
  assert.ok((await db.listDatabases()).includes("jsdb"));
  await assert.rejects(db.createDatabase("jsdb"), (e) => e.errorNum === 1207 && e.code === 409);
  await db.dropDatabase("jsdb");
  assert.ok(!(await db.listDatabases()).includes("jsdb"));
});

test("collections and documents", async () => {
  const db = system().database("_system");
  const col = await db.createCollection("jsdocs", { waitForSync: true });
  const meta = await col.save({ _key: "a", n: 1 }, { returnNew: true });
  assert.equal(meta.new.n, 1);
  assert.equal((await col.document("a")).n, 1);
  await assert.rejects(col.save({ _key: "a" }), (e) => e.errorNum === 1210);
  await col.update("a", { m: 2 });
  assert.deepEqual(await col.document("a"), { _key: "a", _id: "jsdocs/a", _rev: (await col.document("a"))._rev, n: 1, m: 2 });
  await col.replace("a", { only: true });
  assert.equal((await col.document("a")).n, undefined);
  assert.equal(await col.documentExists("a"), true);
  assert.equal(await col.documentExists("zz"), false);
  const many = await col.saveAll([{ _key: "b" }, { _key: "b" }]);
  assert.equal(many[0]._key, "b");
  assert.equal(many[1].errorNum, 1210);
  assert.equal((await col.count()).count, 2);
  await col.remove("a");
  await assert.rejects(col.document("a"), (e) => e.errorNum === 1202 && e.code === 404);
  const imported = await col.import([{ _key: "i1" }, { _key: "i2" }], { type: "list" });
  assert.equal(imported.created, 2);
  const props = await col.properties();
  assert.equal(props.waitForSync, true);
  await col.truncate();
  assert.equal((await col.count()).count, 0);
  await col.drop();
});

test("edges", async () => {
  const db = system();
  const edges = await db.createEdgeCollection("jsedges");
  await edges.save({ _from: "v/1", _to: "v/2" });
  await edges.save({ _from: "v/2", _to: "v/3" });
  const out = await edges.outEdges("v/2");
  assert.deepEqual(out.edges.map((e) => e._to), ["v/3"]);
  const inbound = await edges.inEdges("v/2");
  assert.deepEqual(inbound.edges.map((e) => e._from), ["v/1"]);
  // arangojs 10's edges() sends direction=undefined, which ArangoDB 3.12 refuses too.
  await assert.rejects(edges.edges("v/2"), (e) => e.code === 400);
  await assert.rejects(edges.save({ _from: "v/1" }), (e) => e.errorNum === 1233);
});

test("bad credentials are refused", async () => {
  const db = new Database({ url, auth: { username: "root", password: "wrong" } });
  await assert.rejects(db.version(), (e) => e.code === 401);
});

test("AQL queries through cursors", async () => {
  const db = system();
  const col = await db.createCollection("jsaql");
  await col.saveAll(Array.from({ length: 30 }, (_, i) => ({ _key: `k${i}`, v: i })));
  const cursor = await db.query(aql`FOR d IN ${col} FILTER d.v >= ${10} SORT d.v RETURN d.v`, { batchSize: 7, count: true });
  assert.equal(cursor.count, 20);
  const all = await cursor.all();
  assert.deepEqual(all, Array.from({ length: 20 }, (_, i) => i + 10));
  const grouped = await (await db.query(aql`FOR d IN ${col} COLLECT odd = d.v % 2 WITH COUNT INTO n RETURN {odd, n}`)).all();
  assert.deepEqual(grouped, [{ odd: 0, n: 15 }, { odd: 1, n: 15 }]);
  await assert.rejects(db.query("FOR x IN RETURN"), (e) => e.errorNum === 1501);
});

test("explain, parse and the optimizer's rules", async () => {
  const db = system();
  const col = await db.createCollection("jsexplain");
  await col.saveAll(Array.from({ length: 10 }, (_, i) => ({ _key: `k${i}`, v: i })));
  const explained = await db.explain(aql`FOR d IN ${col} FILTER d._key == ${"k3"} RETURN d.v`);
  assert.equal(explained.plan.nodes[1].type, "IndexNode");
  assert.ok(explained.plan.rules.includes("use-indexes"));
  const parsed = await db.parse("FOR d IN jsexplain RETURN d");
  assert.deepEqual(parsed.collections, ["jsexplain"]);
  const sorted = await (await db.query(aql`FOR d IN ${col} SORT d._key LIMIT 3 RETURN d._key`)).all();
  assert.deepEqual(sorted, ["k0", "k1", "k2"]);
  const expanded = await (await db.query(aql`RETURN [${[1, 2, 3]}[* FILTER CURRENT > 1], ${[1, 2, 3]} ANY == 2, LENGTH(jsexplain)]`)).all();
  assert.deepEqual(expanded, [[[2, 3], true, 10]]);
});
