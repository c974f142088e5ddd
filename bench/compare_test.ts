/**
 * Smoke test of the side-by-side benchmark: `bench/compare.ts --quick`
 * (tiny counts, one repetition) into a temporary folder, under 60 s, and
 * the shape of the JSON it writes. Skipped when the Pyro5 peer is missing
 * (outside CI).
 *
 * @module
 */

import assert from "node:assert/strict";
import { peerAvailable } from "../tests/_peer.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test({
  name: "bench:compare --quick writes a complete report",
  ignore: !peerAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "tyro-bench-" });
    try {
      const cmd = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-q",
          "--allow-run",
          "--allow-read",
          `--allow-write=${out}`,
          "bench/compare.ts",
          "--quick",
          "--out",
          out,
        ],
        cwd: ROOT.pathname,
        stdout: "piped",
        stderr: "piped",
      });
      const started = performance.now();
      const child = cmd.spawn();
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 60_000);
      const { code, stderr } = await child.output();
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const log = new TextDecoder().decode(stderr);
      assert.equal(code, 0, `compare.ts --quick failed:\n${log}`);
      assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);

      const report = JSON.parse(await Deno.readTextFile(`${out}/benchmarks.json`));
      assert.equal(report.schema, 1);
      assert.equal(report.quick, true);
      assert.equal(typeof report.date, "string");
      assert.equal(typeof report.machine.nproc, "number");
      assert.equal(typeof report.machine.pyro5, "string");
      assert.ok(Array.isArray(report.rows) && report.rows.length >= 30, "rows");
      const ids = new Set(report.rows.map((r: { id: string }) => r.id));
      for (
        const id of [
          "raw.pingpong",
          "raw.bulk",
          "calls.serpent",
          "calls.marshal",
          "calls.json",
          "calls.msgpack",
          "cpu.msgpack",
          "pipelined.msgpack",
          "oneway.msgpack",
          "batch.serpent",
          "batch.msgpack",
          "connect",
          "iter",
          "ns",
          "concurrent.pythonClients",
          "concurrent.ownClients",
          "hold.max",
          "hold.memory",
        ]
      ) assert.ok(ids.has(id), `row ${id} missing`);
      for (const row of report.rows) {
        assert.equal(typeof row.label, "string");
        assert.equal(typeof row.unit, "string");
        assert.equal(typeof row.lowerIsBetter, "boolean");
        for (const side of ["tyro", "pyro5"]) {
          const s = row[side];
          if (s === null) continue;
          for (const k of ["median", "min", "max"]) {
            assert.equal(typeof s[k], "number", `${row.id}.${side}.${k}`);
          }
          assert.ok(Array.isArray(s.values) && s.values.length >= 1);
          assert.ok(s.min <= s.median && s.median <= s.max);
        }
        assert.ok(row.ratio === null || typeof row.ratio === "number");
      }
      // every Tyro figure was measured (Pyro5 json cannot carry bytes, so some Pyro5 cells are empty)
      for (const row of report.rows) {
        assert.ok(row.tyro !== null, `no Tyro figure for ${row.id}: ${row.errors ?? ""}`);
      }
      assert.ok(Array.isArray(report.targets) && report.targets.length > 0);
      for (const t of report.targets) {
        assert.equal(typeof t.target, "string");
        assert.ok(t.holds === null || typeof t.holds === "boolean");
      }
      assert.ok(Array.isArray(report.chart) && report.chart.length > 0);
      const svg = await Deno.readTextFile(`${out}/benchmarks.svg`);
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<\/svg>\s*$/);
      const md = await Deno.readTextFile(`${out}/benchmarks.md`);
      assert.match(md, /\|\s*Figure\s*\|\s*Tyro\s*\|\s*Pyro5\s*\|\s*Tyro\/Pyro5\s*\|/);
      assert.match(md, /benchmarks\.svg/);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
