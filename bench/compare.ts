/**
 * The side-by-side benchmark: Tyro (client and daemon in separate Deno
 * processes) against Python's Pyro5 5.x (client and daemon in separate
 * Python processes), with plain Deno TCP as the floor and ceiling.
 * Writes `benchmarks.json`, `benchmarks.md` and `benchmarks.svg` into
 * `docs/` (or `--out DIR`).
 *
 * ```sh
 * deno task bench:compare            # full run, about 5 minutes
 * deno task bench:compare --quick    # smoke run, tiny counts, one repetition
 * deno task bench:compare --pin      # every process on CPU 0 (taskset -c 0)
 * ```
 *
 * Options: `--out DIR`, `--only group,group` (raw, calls, interop,
 * pipelined, oneway, batch, connect, bulk, iter, ns, concurrent, hold),
 * `--render` (rewrite the .md and .svg from the .json, e.g. after editing
 * `bench/_notes.ts`), `--python PATH`, `--reps N`, `--seconds S`, `--wait-quiet S` (wait up to S
 * seconds, default 60, for other load on the machine to drop below 20% CPU).
 *
 * Python needs the peer from `tests/fetch_peer.sh` in
 * `.peer/root/usr/lib/python3/dist-packages` (or `PYTHONPATH` set by the caller).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type ChartRow, fmt, renderChart } from "./chart.ts";
import { type ClientSpec, type Stat, stat } from "./_common.ts";
import { ANALYSIS, PINNED_NOTE } from "./_notes.ts";

const ROOT = new URL("../", import.meta.url);
const rootPath = (p: string) => new URL(p, ROOT).pathname;
const PEER = rootPath(".peer/root/usr/lib/python3/dist-packages");
const SERIALIZERS = ["serpent", "marshal", "json", "msgpack"] as const;
const GROUPS = [
  "raw",
  "calls",
  "interop",
  "pipelined",
  "oneway",
  "batch",
  "connect",
  "bulk",
  "iter",
  "ns",
  "concurrent",
  "hold",
] as const;

/** One row of the result table. */
export interface ResultRow {
  /** Stable id, e.g. `calls.msgpack`. */
  id: string;
  /** The group (one of the scenario groups). */
  group: string;
  /** Text of the figure. */
  label: string;
  /** Unit of the values. */
  unit: string;
  /** True when smaller is better. */
  lowerIsBetter: boolean;
  /** Tyro's figure. */
  tyro: Stat | null;
  /** Pyro5's figure (or its best equivalent). */
  pyro5: Stat | null;
  /** Tyro median / Pyro5 median. */
  ratio: number | null;
  /**
   * The raw floor or ceiling measured in the same rounds as this row (raw
   * ping-pong round trips/s for one call at a time, its CPU for the CPU rows,
   * raw one-way bulk GB/s for bulk msgpack): the targets set the row against it.
   */
  floor?: Stat | null;
  /** What the row measures, when not obvious. */
  note?: string;
  /** Failures while measuring. */
  errors?: string[];
}

/** One target of the brief, evaluated. */
export interface TargetResult {
  /** What is aimed at. */
  target: string;
  /** The measured value. */
  value: number | null;
  /** The goal. */
  goal: number;
  /** `>=` or `<=`. */
  op: ">=" | "<=";
  /** Whether it holds (null when unmeasured). */
  holds: boolean | null;
  /** How it was computed. */
  detail: string;
}

/** The JSON document written to `benchmarks.json`. */
export interface BenchReport {
  /** Format version. */
  schema: 1;
  /** ISO date of the run. */
  date: string;
  /** `--quick` run. */
  quick: boolean;
  /** `--pin` run. */
  pinned: boolean;
  /** Machine and versions. */
  machine: Record<string, unknown>;
  /** Counts and times used. */
  settings: Record<string, unknown>;
  /** The table. */
  rows: ResultRow[];
  /** The brief's targets. */
  targets: TargetResult[];
  /** What the chart shows. */
  chart: ChartRow[];
  /** Wall seconds of the whole run. */
  elapsedSeconds: number;
}

// ---------------------------------------------------------------- processes

const live = new Set<Deno.ChildProcess>();

function killAll(): void {
  for (const c of live) {
    try {
      c.kill("SIGKILL");
    } catch { /* gone */ }
  }
  live.clear();
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
  if (buf) yield buf;
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  for await (const l of lines(stream)) {
    into.push(l);
    if (into.length > 200) into.shift();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<undefined>((r) => {
    timer = setTimeout(() => (onTimeout(), r(undefined)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

interface Runner {
  prefix: string[];
  python: string;
  env: Record<string, string>;
}

let runner: Runner;

const DENO_PERMS = ["--allow-net=127.0.0.1"];

function denoCmd(script: string, args: string[]): string[] {
  return [...runner.prefix, Deno.execPath(), "run", "-q", ...DENO_PERMS, script, ...args];
}

function pyCmd(args: string[]): string[] {
  return [...runner.prefix, runner.python, "bench/pyro5_bench.py", ...args];
}

function spawn(cmd: string[], extraEnv: Record<string, string> = {}): Deno.ChildProcess {
  const c = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: ROOT.pathname,
    env: { ...runner.env, ...extraEnv },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  live.add(c);
  c.status.finally(() => live.delete(c));
  return c;
}

interface Server {
  uri: string;
  stop(): Promise<void>;
}

async function startServer(cmd: string[], extraEnv: Record<string, string> = {}): Promise<Server> {
  const child = spawn(cmd, extraEnv);
  const err: string[] = [];
  collect(child.stderr, err).catch(() => {});
  const writer = child.stdin.getWriter();
  const out = lines(child.stdout);
  const first = await withTimeout(out.next(), 30_000, () => child.kill("SIGKILL"));
  const line = first && !first.done ? first.value : "";
  if (!line.startsWith("READY ")) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    throw new Error(`server ${cmd.join(" ")} did not start: ${line} ${err.join("\n")}`);
  }
  (async () => {
    for await (const _ of out) { /* drain */ }
  })().catch(() => {});
  return {
    uri: line.slice(6).trim(),
    async stop() {
      try {
        await writer.close(); // EOF on stdin stops the server
      } catch { /* closed */ }
      const done = await withTimeout(child.status, 5000, () => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      });
      if (!done) await child.status;
    },
  };
}

interface ClientOutcome {
  lines: Record<string, unknown>[];
  error?: string;
}

async function runClient(cmd: string[], timeoutMs: number): Promise<ClientOutcome> {
  const child = spawn(cmd);
  child.stdin.close();
  const err: string[] = [];
  const errDone = collect(child.stderr, err).catch(() => {});
  const out: Record<string, unknown>[] = [];
  const read = (async () => {
    for await (const l of lines(child.stdout)) {
      try {
        out.push(JSON.parse(l));
      } catch {
        err.push(l);
      }
    }
    return await child.status;
  })();
  const status = await withTimeout(read, timeoutMs, () => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  });
  await errDone;
  if (!status) return { lines: out, error: `timed out after ${timeoutMs / 1000} s` };
  if (!status.success) {
    return { lines: out, error: `exit ${status.code}: ${err.slice(-6).join(" | ").slice(-600)}` };
  }
  return { lines: out };
}

function tyroClient(spec: ClientSpec): string[] {
  return denoCmd("bench/_tyro_client.ts", [JSON.stringify(spec)]);
}

function pyClient(spec: ClientSpec): string[] {
  return pyCmd(["client", JSON.stringify(spec)]);
}

function statsUri(uri: string): string {
  return uri.replace(/^PYRO:[^@]+@/, "PYRO:bench.stats@");
}

// -------------------------------------------------------------- measuring

interface Measured {
  value: Stat | null;
  cpu: Stat | null;
  clientCpu: Stat | null;
  serverCpu: Stat | null;
  extra: Record<string, unknown>[];
  error?: string;
}

function summarize(o: ClientOutcome): Measured {
  const reps = o.lines.filter((l) => typeof l.rep === "number" && "value" in l);
  const unsupported = o.lines.find((l) => "unsupported" in l);
  return {
    value: stat(reps.map((r) => r.value as number)),
    cpu: stat(reps.map((r) => r.cpuPer10k as number)),
    clientCpu: stat(reps.map((r) => r.clientCpuPer10k as number)),
    serverCpu: stat(reps.map((r) => r.serverCpuPer10k as number)),
    extra: o.lines,
    error: o.error ?? (unsupported ? String(unsupported.unsupported) : undefined),
  };
}

const rows: ResultRow[] = [];

function addRow(
  r: Omit<ResultRow, "ratio" | "errors" | "lowerIsBetter"> & {
    lowerIsBetter?: boolean;
    errors?: (string | undefined)[];
  },
): ResultRow {
  const ratio = r.tyro && r.pyro5 && r.pyro5.median > 0 ? r.tyro.median / r.pyro5.median : null;
  const errors = (r.errors ?? []).filter((e): e is string => !!e);
  const { errors: _, ...rest } = r;
  const row: ResultRow = {
    ...rest,
    lowerIsBetter: r.lowerIsBetter ?? false,
    ratio,
    ...(errors.length ? { errors } : {}),
  };
  rows.push(row);
  const show = (s: Stat | null) => (s ? fmt(s.median) : "–");
  // deno-lint-ignore no-console
  console.error(
    `  ${row.label.padEnd(52)} tyro ${show(row.tyro).padStart(8)}  pyro5 ${
      show(row.pyro5).padStart(8)
    }  ${ratio === null ? "" : ratio.toFixed(2) + "×"} ${errors.length ? "ERR " + errors[0] : ""}`,
  );
  return row;
}

/** Runs `procs` client processes in lockstep (ready / go) and gives aggregate calls/s per repetition. */
async function barrier(
  cmds: string[][],
  reps: number,
  warmup: boolean,
  timeoutMs: number,
): Promise<{ value: Stat | null; error?: string }> {
  const children = cmds.map((c) => spawn(c));
  const errs: string[] = [];
  for (const c of children) collect(c.stderr, errs).catch(() => {});
  const its = children.map((c) => lines(c.stdout));
  const writers = children.map((c) => c.stdin.getWriter());
  const next = async (i: number): Promise<Record<string, unknown>> => {
    const r = await its[i].next();
    if (r.done) throw new Error(`client exited: ${errs.slice(-4).join(" | ")}`);
    return JSON.parse(r.value);
  };
  const values: number[] = [];
  let error: string | undefined;
  const work = (async () => {
    const total = reps + (warmup ? 1 : 0);
    for (let rep = 0; rep < total; rep++) {
      await Promise.all(children.map((_, i) => next(i))); // {ready}
      const go = new TextEncoder().encode("go\n");
      await Promise.all(writers.map((w) => w.write(go)));
      const res = await Promise.all(children.map((_, i) => next(i)));
      const start = Math.min(...res.map((r) => r.start as number));
      const end = Math.max(...res.map((r) => r.end as number));
      const calls = res.reduce((a, r) => a + (r.calls as number), 0);
      if (!warmup || rep > 0) values.push(calls / (end - start));
    }
  })();
  try {
    const ok = await withTimeout(work.then(() => true), timeoutMs, killAllOf);
    if (!ok) error = `timed out after ${timeoutMs / 1000} s`;
  } catch (e) {
    error = (e as Error).message;
  }
  function killAllOf() {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
    }
  }
  for (const w of writers) await w.close().catch(() => {});
  await withTimeout(Promise.all(children.map((c) => c.status)), 10_000, killAllOf);
  return { value: stat(values), error };
}

// ------------------------------------------------------------------- main

async function main(): Promise<number> {
  const { values: opt } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      pin: { type: "boolean", default: false },
      out: { type: "string", default: rootPath("docs") },
      only: { type: "string" },
      python: { type: "string", default: "python3" },
      reps: { type: "string" },
      seconds: { type: "string" },
      "wait-quiet": { type: "string", default: "60" },
      render: { type: "boolean", default: false },
    },
  });
  if (opt.render) {
    // re-renders benchmarks.md and .svg from benchmarks.json (after editing bench/_notes.ts)
    const dir = opt.out!.replace(/\/$/, "");
    const report = JSON.parse(await Deno.readTextFile(`${dir}/benchmarks.json`)) as BenchReport;
    const st = report.settings as { bulkSizes: number[]; holdSteps: number[] };
    report.targets = computeTargets(report.rows, report.quick, st.bulkSizes, st.holdSteps);
    report.chart = chartRows(report.rows);
    await writeReport(dir, report);
    return 0;
  }
  const quick = opt.quick!;
  // deno-lint-ignore no-console
  const log = (s: string) => console.error(s);
  const only = new Set(opt.only ? opt.only.split(",") : GROUPS);
  for (const g of only) {
    if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`unknown group ${g}`);
  }
  const out = opt.out!.replace(/\/$/, "");
  const t0 = performance.now();
  runner = {
    prefix: opt.pin ? ["taskset", "-c", "0"] : [],
    python: opt.python!,
    env: {
      PYTHONPATH: PEER,
      PYTHONUNBUFFERED: "1",
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONHASHSEED: "0",
      NO_COLOR: "1",
    },
  };
  const S = {
    reps: Number(opt.reps ?? (quick ? 1 : 3)),
    // one call at a time sits near its target (90% of raw) and swings by a few points
    // between rounds: more rounds for it, a multiple of the four serializers so that each
    // starts as many rounds as the others
    repsSmall: Number(opt.reps ?? (quick ? 1 : 8)),
    seconds: Number(opt.seconds ?? (quick ? 0.1 : 1)),
    warmup: quick ? 0 : 0.3,
    // the rows of small operations measure V8's steady state: its optimizing compiler still
    // works on a worker thread for the first ~2.5 s of calls (measured: 3 µs of worker CPU per
    // call in the second after 0.3 s of calls, none after 2.5 s)
    warmupSmall: quick ? 0 : 2,
    maxOps: quick ? 300 : 2_000_000,
    onewayCount: quick ? 300 : 40_000,
    batchSize: quick ? 100 : 1000,
    pipelineWidth: 64,
    bulkSizes: quick ? [65_536, 262_144] : [1_000_000, 10_000_000],
    bulkSeconds: quick ? 0.1 : 1,
    iterItems: quick ? 200 : 10_000,
    prefetch: 64,
    concurrentClients: quick ? 3 : 16,
    concurrentCalls: quick ? 50 : 2_000,
    holdSteps: quick ? [10, 30] : [100, 1_000, 2_500, 5_000, 10_000],
    holdSecondsPerStep: quick ? 15 : 60,
    clientTimeoutMs: quick ? 30_000 : 180_000,
  };
  const base = { reps: S.reps, seconds: S.seconds, warmup: S.warmup, count: S.maxOps };
  log(`bench:compare ${quick ? "(quick) " : ""}${opt.pin ? "(pinned to CPU 0) " : ""}→ ${out}`);

  let info = await runClient(pyCmd(["info"]), 30_000);
  if (info.error || !info.lines.length) {
    throw new Error(`python3 with Pyro5 is not usable (${info.error}); run tests/fetch_peer.sh`);
  }
  // Other load on the machine skews everything: wait (bounded) for a quiet moment.
  const quietUntil = performance.now() + (quick ? 0 : Number(opt["wait-quiet"]) * 1000);
  while ((info.lines[0].cpuBusy as number) > 0.2 && performance.now() < quietUntil) {
    log(`machine busy (${((info.lines[0].cpuBusy as number) * 100).toFixed(0)}% CPU), waiting`);
    await new Promise((r) => setTimeout(r, 3000));
    info = await runClient(pyCmd(["info"]), 30_000);
  }
  const machine: Record<string, unknown> = {
    ...info.lines[0],
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
  };

  const tyroD = await startServer(denoCmd("bench/_tyro_server.ts", ["daemon"]));
  const pyD = await startServer(pyCmd(["server", "daemon"]));
  const tSpec = (x: Partial<ClientSpec>): ClientSpec =>
    ({
      ...base,
      uri: tyroD.uri,
      statsUri: statsUri(tyroD.uri),
      serializer: "msgpack",
      ...x,
    }) as ClientSpec;
  const pSpec = (x: Partial<ClientSpec>): ClientSpec =>
    ({
      ...base,
      uri: pyD.uri,
      statsUri: statsUri(pyD.uri),
      serializer: "msgpack",
      ...x,
    }) as ClientSpec;
  const T = S.clientTimeoutMs;
  const merge = (into: ClientOutcome, o: ClientOutcome) => {
    into.lines.push(...o.lines);
    if (o.error) into.error = into.error ? `${into.error}; ${o.error}` : o.error;
  };
  // Tyro and Pyro5 take turns, one repetition per process, so that load
  // from elsewhere on the machine hits both sides alike; `extra` (a raw
  // floor repetition) runs in the same rounds, and its figures are kept with
  // the row's (`e`) so that the row is set against the floor measured beside it.
  // Several rows given together share their rounds: round i measures each row
  // once, starting with row i, so that no row is always the first measured.
  const rounds = async (
    xs: Partial<ClientSpec>[],
    reps: number,
    extra?: () => Promise<ClientOutcome>,
  ) => {
    const o = xs.map(() => ({
      t: { lines: [] } as ClientOutcome,
      p: { lines: [] } as ClientOutcome,
      e: { lines: [] } as ClientOutcome,
    }));
    for (let i = 0; i < reps; i++) {
      for (let j = 0; j < xs.length; j++) {
        const k = (i + j) % xs.length, x = xs[k], into = o[k];
        if (extra) merge(into.e, await extra());
        const runT = async () =>
          merge(into.t, await runClient(tyroClient(tSpec({ ...x, reps: 1 })), T));
        const runP = async () =>
          merge(into.p, await runClient(pyClient(pSpec({ ...x, reps: 1 })), T));
        if (i % 2) await runP(), await runT();
        else await runT(), await runP();
      }
    }
    return o.map((r) => ({ t: summarize(r.t), p: summarize(r.p), e: summarize(r.e) }));
  };
  const both = async (x: Partial<ClientSpec>, extra?: () => Promise<ClientOutcome>) =>
    (await rounds([x], S.reps, extra))[0];
  /** A row's two figures and their errors, from a {@linkcode both} result. */
  const figures = (r: Awaited<ReturnType<typeof both>>) => ({
    tyro: r.t.value,
    pyro5: r.p.value,
    errors: [r.t.error, r.p.error],
  });

  const rawPing: ClientOutcome = { lines: [] }, rawBulk: ClientOutcome = { lines: [] };
  const rawConnect: ClientOutcome = { lines: [] };
  const rawEcho = new Map<number, ClientOutcome>();
  let rawS: Server | null = null;
  const rawRep = async (
    scenario: "calls" | "bulk" | "connect" | "echo",
    size = 0,
  ): Promise<ClientOutcome> => {
    if (!rawS) return { lines: [] };
    const rs = {
      ...base,
      ...(scenario === "calls" || scenario === "connect" ? { warmup: S.warmupSmall } : {}),
      reps: 1,
      uri: rawS.uri,
      serializer: "",
      count: scenario === "echo" ? size : quick ? 1000 : 50_000_000,
      scenario,
    };
    let into = scenario === "calls" ? rawPing : scenario === "bulk" ? rawBulk : rawConnect;
    if (scenario === "echo") {
      if (!rawEcho.has(size)) rawEcho.set(size, { lines: [] });
      into = rawEcho.get(size)!;
    }
    const o = await runClient(denoCmd("bench/_raw.ts", ["client", JSON.stringify(rs)]), T);
    merge(into, o);
    return o;
  };
  try {
    if (only.has("raw")) {
      rawS = await startServer(denoCmd("bench/_raw.ts", ["server"]));
    }
    const calls: Record<string, { t: Measured; p: Measured; e: Measured }> = {};
    if (only.has("calls")) {
      if (!quick) {
        // Each daemon serves every serializer for a while before anything is measured: the
        // rows measured first would otherwise also pay for a fresh daemon process (seen: serpent
        // at 76% of raw when measured first, 82% when last; marshal 81% second, 87% third).
        log("warming both daemons up (not measured)");
        for (const ser of SERIALIZERS) {
          const x = { scenario: "calls", serializer: ser, reps: 1, seconds: 0.5 } as const;
          await runClient(tyroClient(tSpec(x)), T);
          await runClient(pyClient(pSpec(x)), T);
        }
      }
      log("one call at a time, one connection");
      // the serializers share their rounds (each takes every place in turn), with a raw
      // ping-pong repetition before each measurement
      const measured = await rounds(
        SERIALIZERS.map((ser) => ({ scenario: "calls", serializer: ser, warmup: S.warmupSmall })),
        S.repsSmall,
        () => rawRep("calls"),
      );
      SERIALIZERS.forEach((ser, i) => calls[ser] = measured[i]);
      // The four rows take turns in the same rounds, so they share one floor: all the raw
      // repetitions of those rounds. Each row's own few (the one just before each of its
      // measurements) swung by ±3% from row to row while Tyro's figures did not follow them.
      const sharedFloor = summarize({ lines: measured.flatMap((m) => m.e.extra) });
      for (const ser of SERIALIZERS) {
        const r = calls[ser];
        addRow({
          id: `calls.${ser}`,
          group: "calls",
          label: `calls/s one at a time, ${ser}`,
          unit: "/s",
          ...figures(r),
          floor: sharedFloor.value,
        });
      }
      for (const ser of SERIALIZERS) {
        const r = calls[ser];
        addRow({
          id: `cpu.${ser}`,
          group: "cpu",
          label: `CPU s per 10,000 calls (client+server), ${ser}`,
          unit: "s",
          lowerIsBetter: true,
          tyro: r.t.cpu,
          pyro5: r.p.cpu,
          floor: sharedFloor.cpu,
          note: `client ${fmt(r.t.clientCpu?.median)} + server ${
            fmt(r.t.serverCpu?.median)
          } (Tyro); client ${fmt(r.p.clientCpu?.median)} + server ${
            fmt(r.p.serverCpu?.median)
          } (Pyro5)`,
        });
      }
    }

    if (only.has("interop")) {
      log("cross: Tyro client → Pyro5 daemon, Pyro5 client → Tyro daemon (msgpack)");
      const x = { scenario: "calls", warmup: S.warmupSmall } as const;
      const tp = summarize(await runClient(tyroClient(pSpec(x)), T));
      const pt = summarize(await runClient(pyClient(tSpec(x)), T));
      addRow({
        id: "interop.tyroClient",
        group: "interop",
        label: "calls/s, msgpack: Tyro client vs Pyro5 client → Pyro5 daemon",
        unit: "/s",
        tyro: tp.value,
        pyro5: calls.msgpack?.p.value ?? null,
        errors: [tp.error],
      });
      addRow({
        id: "interop.tyroDaemon",
        group: "interop",
        label: "calls/s, msgpack: Pyro5 client → Tyro daemon vs → Pyro5 daemon",
        unit: "/s",
        tyro: pt.value,
        pyro5: calls.msgpack?.p.value ?? null,
        errors: [pt.error],
      });
    }

    if (only.has("pipelined")) {
      log(`pipelined, ${S.pipelineWidth} in flight (Pyro5: batches of ${S.pipelineWidth})`);
      for (const ser of ["msgpack", "serpent"]) {
        const r = await both({ scenario: "pipelined", serializer: ser, width: S.pipelineWidth });
        addRow({
          id: `pipelined.${ser}`,
          group: "pipelined",
          label: `pipelined calls/s, ${S.pipelineWidth} in flight, ${ser}`,
          unit: "/s",
          ...figures(r),
          note:
            `Pyro5 cannot pipeline; its column is its best equivalent, a batch of ${S.pipelineWidth} calls per round trip`,
        });
      }
    }

    if (only.has("oneway")) {
      log("oneway calls, counted on the server");
      for (const ser of ["serpent", "msgpack"]) {
        const r = await both({ scenario: "oneway", serializer: ser, count: S.onewayCount });
        addRow({
          id: `oneway.${ser}`,
          group: "oneway",
          label: `oneway calls/s (executed on the server), ${ser}`,
          unit: "/s",
          ...figures(r),
        });
      }
    }

    if (only.has("batch")) {
      log(`batched calls, batches of ${S.batchSize}`);
      for (const ser of ["serpent", "msgpack"]) {
        const r = await both({ scenario: "batch", serializer: ser, width: S.batchSize });
        addRow({
          id: `batch.${ser}`,
          group: "batch",
          label: `batched calls/s (${S.batchSize} per batch), ${ser}`,
          unit: "/s",
          ...figures(r),
        });
      }
    }

    if (only.has("connect")) {
      log("new connections (connect, handshake, one call, close)");
      const r = await both({ scenario: "connect", warmup: S.warmupSmall }, () => rawRep("connect"));
      addRow({
        id: "connect",
        group: "connect",
        label: "new connections/s (connect+handshake+call+close), msgpack",
        unit: "/s",
        ...figures(r),
      });
    }

    if (only.has("bulk")) {
      log("bulk echo of bytes");
      for (const size of S.bulkSizes) {
        for (const ser of SERIALIZERS) {
          const r = await both(
            {
              scenario: "bulk",
              serializer: ser,
              count: size,
              seconds: S.bulkSeconds,
              warmup: S.warmup,
            },
            ser === "msgpack"
              ? async () => {
                const oneWay = await rawRep("bulk");
                await rawRep("echo", size);
                return oneWay;
              }
              : undefined,
          );
          const mb = size >= 1e6 ? `${size / 1e6} MB` : `${size / 1024} KB`;
          addRow({
            id: `bulk.${size}.${ser}`,
            group: "bulk",
            label: `bulk echo ${mb} bytes, ${ser} (MB/s)`,
            unit: "MB/s",
            ...figures(r),
            ...(ser === "msgpack" ? { floor: r.e.value } : {}),
            note: "MB/s counts the payload both ways (2 × size per echo)",
          });
        }
      }
    }

    if (only.has("iter")) {
      log(`remote iterator, ${S.iterItems} items`);
      const r = await both({ scenario: "iter", count: S.iterItems, warmup: 0, width: S.prefetch });
      const t0 = summarize(
        await runClient(
          tyroClient(tSpec({ scenario: "iter", count: S.iterItems, warmup: 0, width: 0 })),
          T,
        ),
      );
      addRow({
        id: "iter",
        group: "iter",
        label: `remote iterator items/s (${S.iterItems} items), msgpack`,
        unit: "/s",
        ...figures(r),
        note:
          `Tyro client with prefetch ${S.prefetch} (requests in flight); Pyro5 asks one item per round trip`,
      });
      addRow({
        id: "iter.noprefetch",
        group: "iter",
        label: `remote iterator items/s (${S.iterItems} items), Tyro without prefetch`,
        unit: "/s",
        tyro: t0.value,
        pyro5: r.p.value,
        errors: [t0.error],
      });
    }

    if (only.has("ns")) {
      log("name server lookups");
      let t: Measured | null = null, p: Measured | null = null;
      let nsErr: string | undefined;
      try {
        const tyroNs = await startServer(denoCmd("bench/_tyro_server.ts", ["ns"]));
        t = summarize(
          await runClient(
            tyroClient({
              ...base,
              scenario: "ns",
              uri: tyroNs.uri,
              statsUri: statsUri(tyroNs.uri),
              serializer: "msgpack",
            }),
            T,
          ),
        );
        await tyroNs.stop();
      } catch (e) {
        nsErr = `Tyro name server: ${(e as Error).message}`;
      }
      const pyNs = await startServer(pyCmd(["server", "ns"]));
      p = summarize(
        await runClient(
          pyClient({
            ...base,
            scenario: "ns",
            uri: pyNs.uri,
            statsUri: statsUri(pyNs.uri),
            serializer: "msgpack",
          }),
          T,
        ),
      );
      await pyNs.stop();
      addRow({
        id: "ns",
        group: "ns",
        label: "name server lookups/s, msgpack",
        unit: "/s",
        tyro: t?.value ?? null,
        pyro5: p.value,
        errors: [nsErr ?? t?.error, p.error],
      });
    }

    if (only.has("concurrent")) {
      const n = S.concurrentClients, k = S.concurrentCalls;
      log(`${n} concurrent clients × ${k} calls`);
      const spec = (x: ClientSpec) => ({ ...x, scenario: "concurrent" as const, count: k });
      const pyOne = (s: ClientSpec) =>
        Array.from({ length: n }, () => pyClient({ ...s, width: 1 }));
      const warm = !quick;
      // rounds of one repetition each, the three set-ups taking turns
      const av: number[] = [], bv: number[] = [], cv: number[] = [];
      const errs: (string | undefined)[][] = [[], [], []];
      const runs: [() => string[][], number[], (string | undefined)[]][] = [
        [() => pyOne(spec(tSpec({}))), av, errs[0]],
        [() => pyOne(spec(pSpec({}))), bv, errs[1]],
        [() => [tyroClient({ ...spec(tSpec({})), width: n })], cv, errs[2]],
      ];
      for (let i = 0; i < S.reps; i++) {
        for (let j = 0; j < runs.length; j++) {
          const [cmds, into, err] = runs[(i + j) % runs.length];
          const r = await barrier(cmds(), 1, warm, T);
          if (r.value) into.push(...r.value.values);
          err.push(r.error);
        }
      }
      const joined = (e: (string | undefined)[]) => e.filter(Boolean).join("; ") || undefined;
      const a = { value: stat(av), error: joined(errs[0]) };
      const b = { value: stat(bv), error: joined(errs[1]) };
      const c = { value: stat(cv), error: joined(errs[2]) };
      addRow({
        id: "concurrent.pythonClients",
        group: "concurrent",
        label: `${n} Python clients × ${k} calls: → Tyro daemon vs → Pyro5 daemon (calls/s)`,
        unit: "/s",
        tyro: a.value,
        pyro5: b.value,
        note: `msgpack; one Python process per client`,
        errors: [a.error, b.error],
      });
      addRow({
        id: "concurrent.ownClients",
        group: "concurrent",
        label: `${n} own clients × ${k} calls, each side (calls/s)`,
        unit: "/s",
        tyro: c.value,
        pyro5: b.value,
        note:
          `msgpack; Tyro: ${n} proxies (one connection each) in one Deno process; Pyro5: ${n} Python processes (the row above)`,
        errors: [c.error, b.error],
      });
    }

    if (only.has("hold")) {
      log("idle connections held (fresh daemons)");
      await tyroD.stop();
      await pyD.stop();
      const holdOn = async (server: Server) => {
        const o = await runClient(
          tyroClient({
            ...base,
            scenario: "hold",
            uri: server.uri,
            statsUri: statsUri(server.uri),
            serializer: "msgpack",
            steps: S.holdSteps,
            seconds: S.holdSecondsPerStep,
          }),
          quick ? 60_000 : 300_000,
        );
        await server.stop();
        const steps = o.lines.filter((l) => "step" in l);
        const ok = steps.filter((l) => l.answered === l.held && (l.held as number) > 0);
        const last = ok[ok.length - 1];
        const max = o.lines.find((l) => l.rep === 0)?.value as number | undefined;
        return {
          max: max ?? null,
          perConn: last && typeof last.perConnection === "number" ? last.perConnection : null,
          steps,
          error: o.error ?? (steps.find((s) => s.error)?.error as string | undefined),
        };
      };
      const th = await holdOn(await startServer(denoCmd("bench/_tyro_server.ts", ["daemon"])));
      const ph = await holdOn(await startServer(pyCmd(["server", "daemon"])));
      const pm = await holdOn(
        await startServer(pyCmd(["server", "daemon"]), { PYRO_SERVERTYPE: "multiplex" }),
      );
      const one = (v: number | null) => (v === null ? null : stat([v]));
      addRow({
        id: "hold.max",
        group: "hold",
        label: "concurrent connections held, every one answered",
        unit: "",
        tyro: one(th.max),
        pyro5: one(ph.max),
        note: `tried up to ${
          S.holdSteps.at(-1)
        }; Pyro5 thread server (default, THREADPOOL_SIZE 80, one connection is the stats probe); Pyro5 multiplex server held ${
          pm.max ?? "–"
        }${pm.error ? ` (${pm.error})` : ""}`,
        errors: [th.error, ph.error && `Pyro5: ${ph.error}`],
      });
      addRow({
        id: "hold.memory",
        group: "hold",
        label: "server memory per idle connection (KB)",
        unit: "KB",
        lowerIsBetter: true,
        tyro: one(th.perConn === null ? null : th.perConn / 1024),
        pyro5: one(ph.perConn === null ? null : ph.perConn / 1024),
        note: `RSS growth / connections held at the largest answered step; Pyro5 multiplex: ${
          pm.perConn === null ? "–" : fmt(pm.perConn / 1024)
        } KB`,
      });
      (machine as Record<string, unknown>).holdSteps = {
        tyro: th.steps,
        pyro5: ph.steps,
        pyro5Multiplex: pm.steps,
      };
    } else {
      await tyroD.stop();
      await pyD.stop();
    }

    if (rawS) {
      log("raw Deno TCP (floor/ceiling)");
      // measured in the rounds of the calls and bulk groups; on its own when those did not run
      for (let i = rawPing.lines.length ? S.reps : 0; i < S.reps; i++) await rawRep("calls");
      for (let i = rawBulk.lines.length ? S.reps : 0; i < S.reps; i++) await rawRep("bulk");
      await rawS.stop();
      const rt = summarize(rawPing), bulk = summarize(rawBulk);
      const first = rows.length;
      addRow({
        id: "raw.pingpong",
        group: "raw",
        label: "raw Deno TCP ping-pong, 48 B (round trips/s)",
        unit: "/s",
        tyro: rt.value,
        pyro5: null,
        errors: [rt.error],
      });
      addRow({
        id: "raw.pingpong.cpu",
        group: "raw",
        label: "raw ping-pong CPU s per 10,000 round trips",
        unit: "s",
        lowerIsBetter: true,
        tyro: rt.cpu,
        pyro5: null,
      });
      addRow({
        id: "raw.bulk",
        group: "raw",
        label: "raw Deno TCP bulk, one way (GB/s)",
        unit: "GB/s",
        tyro: bulk.value,
        pyro5: null,
        errors: [bulk.error],
      });
      const conn = summarize(rawConnect);
      if (rawConnect.lines.length) {
        addRow({
          id: "raw.connect",
          group: "raw",
          label: "raw Deno TCP connect + one 48 B round trip + close (/s)",
          unit: "/s",
          tyro: conn.value,
          pyro5: null,
          errors: [conn.error],
        });
      }
      for (const [size, o] of rawEcho) {
        const e = summarize(o);
        addRow({
          id: `raw.echo.${size}`,
          group: "raw",
          label: `raw Deno TCP echo of ${
            size >= 1e6 ? `${size / 1e6} MB` : `${size / 1024} KB`
          }, a new buffer per message read (MB/s)`,
          unit: "MB/s",
          tyro: e.value,
          pyro5: null,
          note: "both ways, as the bulk rows; the most an echo that hands its bytes on can do",
          errors: [e.error],
        });
      }
      rows.unshift(...rows.splice(first)); // the floor and ceiling go first
    }

    const targets = computeTargets(rows, quick, S.bulkSizes, S.holdSteps);

    // ---------------------------------------------------------- output
    const date = new Date().toISOString();
    const chart = chartRows(rows);
    const infoAfter = await runClient(pyCmd(["info"]), 30_000);
    machine.loadavgAfter = infoAfter.lines[0]?.loadavg ?? null;
    machine.cpuBusyAfter = infoAfter.lines[0]?.cpuBusy ?? null;
    const report: BenchReport = {
      schema: 1,
      date,
      quick,
      pinned: opt.pin!,
      machine,
      settings: S,
      rows,
      targets,
      chart,
      elapsedSeconds: (performance.now() - t0) / 1000,
    };
    await writeReport(out, report);
    log(`done in ${report.elapsedSeconds.toFixed(0)} s: ${out}/benchmarks.{md,json,svg}`);
    return 0;
  } finally {
    killAll();
  }
}

/**
 * Evaluates the brief's targets on the measured rows.
 *
 * @param rows The table.
 * @param quick A `--quick` run (the connection target is its largest step).
 * @param bulkSizes The bulk sizes measured.
 * @param holdSteps The connection steps tried.
 * @returns The targets.
 */
export function computeTargets(
  rows: ResultRow[],
  quick: boolean,
  bulkSizes: number[],
  holdSteps: number[],
): TargetResult[] {
  const get = (id: string) => rows.find((r) => r.id === id);
  const med = (s: Stat | null | undefined) => s?.median ?? null;
  const targets: TargetResult[] = [];
  const target = (
    t: string,
    value: number | null,
    goal: number,
    op: ">=" | "<=",
    detail: string,
  ) =>
    targets.push({
      target: t,
      value,
      goal,
      op,
      holds: value === null || !Number.isFinite(value)
        ? null
        : op === ">="
        ? value >= goal
        : value <= goal,
      detail,
    });
  const rawRt = med(get("raw.pingpong")?.tyro);
  for (const ser of SERIALIZERS) {
    const c = get(`calls.${ser}`);
    if (!c) continue;
    // against the raw repetitions run in the same rounds when there are any
    const floor = med(c.floor) ?? rawRt;
    target(
      `one call at a time ≥ 90% of raw ping-pong, ${ser}`,
      floor && med(c.tyro) ? med(c.tyro)! / floor : null,
      0.9,
      ">=",
      `${fmt(med(c.tyro))} calls/s vs ${fmt(floor)} round trips/s${
        med(c.floor) === null ? "" : " (raw, same rounds)"
      }`,
    );
    target(
      `one call at a time above Pyro5, ${ser}`,
      c.ratio,
      1,
      ">=",
      `${fmt(med(c.tyro))} vs ${fmt(med(c.pyro5))}`,
    );
  }
  const pm = get("pipelined.msgpack"), cm = get("calls.msgpack");
  if (pm && cm) {
    target(
      "pipelined ≥ 30× Pyro5 one at a time (msgpack)",
      med(pm.tyro) && med(cm.pyro5) ? med(pm.tyro)! / med(cm.pyro5)! : null,
      30,
      ">=",
      `${fmt(med(pm.tyro))} vs ${fmt(med(cm.pyro5))}`,
    );
  }
  for (const [ser, goal] of [["msgpack", 3], ["serpent", 10]] as const) {
    const b = get(`batch.${ser}`);
    if (b) {
      target(
        `batched ≥ ${goal}× Pyro5 (${ser})`,
        b.ratio,
        goal,
        ">=",
        `${fmt(med(b.tyro))} vs ${fmt(med(b.pyro5))}`,
      );
    }
  }
  const rawBulkGB = med(get("raw.bulk")?.tyro);
  const rawBulkMB = rawBulkGB === null ? null : rawBulkGB * 1000;
  for (const size of bulkSizes) {
    const b = get(`bulk.${size}.msgpack`);
    if (b) {
      const paired = med(b.floor);
      const ceiling = paired === null ? rawBulkMB : paired * 1000;
      target(
        `bulk msgpack ≥ 50% of raw bulk (${size} B)`,
        ceiling && med(b.tyro) ? med(b.tyro)! / ceiling : null,
        0.5,
        ">=",
        `${fmt(med(b.tyro))} MB/s vs raw ${fmt(ceiling)} MB/s${
          paired === null ? "" : " (same rounds)"
        }`,
      );
    }
    const s = get(`bulk.${size}.serpent`);
    if (s) {
      target(
        `bulk serpent ≥ 5× Pyro5 (${size} B)`,
        s.ratio,
        5,
        ">=",
        `${fmt(med(s.tyro))} vs ${fmt(med(s.pyro5))} MB/s`,
      );
    }
  }
  const bulkRatios = rows.filter((r) => r.group === "bulk" && r.ratio !== null);
  if (bulkRatios.length) {
    const worst = bulkRatios.reduce((a, b) => (a.ratio! <= b.ratio! ? a : b));
    target(
      "bulk never below Pyro5 (worst row)",
      worst.ratio,
      1,
      ">=",
      worst.label,
    );
  }
  const rawCpu = med(get("raw.pingpong.cpu")?.tyro);
  for (const ser of SERIALIZERS) {
    const c = get(`cpu.${ser}`);
    if (c) {
      target(
        `CPU per call within 10% of a ~40 µs floor (${ser}), µs`,
        med(c.tyro) === null ? null : med(c.tyro)! * 100,
        44,
        "<=",
        `Pyro5: ${fmt(med(c.pyro5) === null ? null : med(c.pyro5)! * 100)} µs; raw ping-pong: ${
          fmt(rawCpu === null ? null : rawCpu * 100)
        } µs`,
      );
    }
  }
  const cm2 = get("cpu.msgpack");
  const cpuFloor = med(cm2?.floor) ?? rawCpu;
  if (cm2 && cpuFloor) {
    target(
      "CPU per call ≤ 1.1 × raw ping-pong CPU of the same run (msgpack)",
      med(cm2.tyro) === null ? null : med(cm2.tyro)! / cpuFloor,
      1.1,
      "<=",
      `${fmt(med(cm2.tyro)! * 100)} µs vs ${fmt(cpuFloor * 100)} µs per raw round trip${
        med(cm2.floor) === null ? "" : " (same rounds)"
      }`,
    );
  }
  const cn = get("connect");
  if (cn) target("new connections/s ≥ 3× Pyro5", cn.ratio, 3, ">=", cn.label);
  const it = get("iter");
  if (it) {
    target(
      "iterator items/s ≥ 10× Pyro5",
      it.ratio,
      10,
      ">=",
      `${fmt(med(it.tyro))} vs ${fmt(med(it.pyro5))}`,
    );
  }
  const hm = get("hold.max");
  if (hm) {
    target(
      "10,000 concurrent connections",
      med(hm.tyro),
      quick ? holdSteps.at(-1)! : 10_000,
      ">=",
      "Tyro daemon",
    );
  }
  const conc = get("concurrent.pythonClients");
  if (conc) {
    target(
      "Python clients: Tyro daemon ≥ 3× Pyro5 daemon",
      conc.ratio,
      3,
      ">=",
      `${fmt(med(conc.tyro))} vs ${fmt(med(conc.pyro5))} calls/s`,
    );
  }

  return targets;
}

function chartRows(rows: ResultRow[]): ChartRow[] {
  return rows
    .filter((r) => r.pyro5 !== null && r.tyro !== null)
    .map((r) => ({
      label: chartLabel(r.label),
      unit: r.unit,
      tyro: r.tyro?.median ?? null,
      pyro5: r.pyro5?.median ?? null,
      lowerIsBetter: r.lowerIsBetter,
    }));
}

function chartLabel(label: string): string {
  return label
    .replace(/ \((calls\/s|MB\/s|KB|round trips\/s|GB\/s)\)$/, "")
    .replace("CPU s per 10,000 calls (client+server)", "CPU s / 10k calls")
    .replace("Tyro client vs Pyro5 client → Pyro5 daemon", "Tyro vs Pyro5 client → Pyro5 daemon")
    .replace("Pyro5 client → Tyro daemon vs → Pyro5 daemon", "Pyro5 client → Tyro vs Pyro5 daemon")
    .replace(": → Tyro daemon vs → Pyro5 daemon", " → Tyro vs Pyro5 daemon")
    .replace(" (connect+handshake+call+close)", "")
    .replace("calls/s, msgpack:", "msgpack:");
}

async function writeReport(out: string, report: BenchReport): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  await Deno.writeTextFile(`${out}/benchmarks.json`, JSON.stringify(report, null, 2) + "\n");
  await Deno.writeTextFile(
    `${out}/benchmarks.svg`,
    renderChart(
      report.chart,
      `Tyro vs Pyro5 — ${report.date.slice(0, 10)}${report.quick ? " (quick)" : ""}`,
    ),
  );
  await Deno.writeTextFile(`${out}/benchmarks.md`, markdown(report));
  // keep `deno fmt --check` clean (it formats markdown tables, JSON and SVG)
  if (Deno.permissions.querySync({ name: "run" }).state === "granted") {
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "-q", ...["json", "md", "svg"].map((e) => `${out}/benchmarks.${e}`)],
      cwd: ROOT.pathname,
      stdout: "null",
      stderr: "null",
    }).output();
  }
}

function pct(v: unknown): string {
  return typeof v === "number" ? `${(v * 100).toFixed(0)}%` : "?";
}

function cell(s: Stat | null, unit: string): string {
  if (!s) return "–";
  const u = unit === "/s" || unit === "" ? "" : ` ${unit}`;
  if (s.values.length < 2) return `${fmt(s.median)}${u}`;
  return `${fmt(s.median)}${u} (${fmt(s.min)}–${fmt(s.max)})`;
}

/**
 * Renders the report as markdown.
 *
 * @param r The report.
 * @returns The text of `benchmarks.md`.
 */
export function markdown(r: BenchReport): string {
  const m = r.machine;
  const L: string[] = [];
  L.push(
    "# Benchmarks: Tyro vs Pyro5",
    "",
    "Generated by `deno task bench:compare`" +
      (r.quick ? " --quick (smoke run: tiny counts, not figures to quote)" : "") +
      (r.pinned ? " --pin (every process on CPU 0)" : "") + ". Do not edit by hand.",
    "",
    `- Date: ${r.date}; wall time ${r.elapsedSeconds.toFixed(0)} s`,
    `- Machine: ${m.nproc} CPUs (${m.cpuModel}), Linux ${m.kernel}; load average before ${
      (m.loadavg as number[] | undefined)?.map((x) => x.toFixed(2)).join(" ")
    }, after ${(m.loadavgAfter as number[] | null)?.map((x) => x.toFixed(2)).join(" ")}; ` +
      `CPU busy with other work at the start ${pct(m.cpuBusy)}, at the end ${pct(m.cpuBusyAfter)}`,
    `- Tyro: Deno ${m.deno} (V8 ${m.v8}); Pyro5 ${m.pyro5} on CPython ${m.python} (serpent ${m.serpent}, msgpack ${m.msgpack})`,
    `- Each figure: median of ${r.settings.reps} repetitions (range in brackets), ` +
      `${r.settings.seconds} s each after ${r.settings.warmup} s of warm-up` +
      (r.settings.warmupSmall
        ? ` (${r.settings.warmupSmall} s for the rows of small operations: calls one at a time, CPU per call, the cross rows, new connections and their raw floors)`
        : "") +
      "; client and server in separate processes on loopback.",
    "- Ratio: Tyro / Pyro5 (for CPU and memory, lower is better).",
    "",
    "| Figure | Tyro | Pyro5 | Tyro/Pyro5 |",
    "| --- | ---: | ---: | ---: |",
  );
  for (const row of r.rows) {
    const ratio = row.ratio === null
      ? ""
      : `${row.ratio >= 10 ? row.ratio.toFixed(0) : row.ratio.toFixed(2)}×`;
    const note = row.note ? `<br><sub>${row.note}</sub>` : "";
    const err = row.errors?.length
      ? `<br><sub>error: ${row.errors.join("; ").replace(/\|/g, "/")}</sub>`
      : "";
    L.push(
      `| ${row.label}${row.lowerIsBetter ? " ↓" : ""}${note}${err} | ${
        cell(row.tyro, row.unit)
      } | ${row.group === "raw" ? "(floor/ceiling)" : cell(row.pyro5, row.unit)} | ${ratio} |`,
    );
  }
  L.push("", "![Tyro vs Pyro5](benchmarks.svg)", "", "## Targets", "");
  L.push("| Target | Measured | Goal | Holds | From |", "| --- | ---: | ---: | :---: | --- |");
  for (const t of r.targets) {
    const v = t.value === null ? "–" : t.value < 10 ? t.value.toFixed(2) : fmt(t.value);
    L.push(
      `| ${t.target} | ${v} | ${t.op} ${t.goal} | ${
        t.holds === null ? "?" : t.holds ? "yes" : "**no**"
      } | ${t.detail} |`,
    );
  }
  if (r.pinned) {
    // the hand-written analysis is about the unpinned run
    L.push("", "## Notes", "", PINNED_NOTE, "");
  } else {
    L.push("", ANALYSIS.trim(), "");
  }
  return L.join("\n");
}

if (import.meta.main) {
  const ac = () => {
    killAll();
    Deno.exit(130);
  };
  try {
    Deno.addSignalListener("SIGINT", ac);
    Deno.addSignalListener("SIGTERM", ac);
  } catch { /* no signals */ }
  Deno.exit(await main());
}
