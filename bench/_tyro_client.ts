/**
 * The Tyro client process of the side-by-side benchmark: runs one scenario
 * (a JSON {@linkcode ClientSpec} as the only argument) against a daemon and
 * prints one JSON line per repetition. `bench/pyro5_bench.py client` is its
 * Python twin; both follow the same rules so that their figures compare.
 *
 * @module
 */

import { batch, connect, controlOf, createProxy } from "../client.ts";
import { type ClientSpec, cpuSeconds, emit, now, type RepResult, stdinLines } from "./_common.ts";

interface Bench {
  echo(x: unknown): unknown;
  inc(): void;
  count(): number;
  reset(): void;
  gen(n: number): Generator<number>;
}

type BenchProxy = Awaited<ReturnType<typeof connect<Bench>>>;

const SMALL = ["hello", 42, [1.5, 2]];

interface Stats {
  cpu(): number;
  rss(): number;
}

let statsProxy: Awaited<ReturnType<typeof connect<Stats>>> | null = null;

async function stats(spec: ClientSpec): Promise<Awaited<ReturnType<typeof connect<Stats>>> | null> {
  if (!spec.statsUri) return null;
  return statsProxy ??= await connect<Stats>(spec.statsUri, { serializer: "msgpack" });
}

async function serverCpu(spec: ClientSpec): Promise<number> {
  const s = await stats(spec);
  return s ? await s.cpu() : NaN;
}

/** Runs `body` repeatedly for a warm-up and then for each measured repetition. */
async function timed(
  spec: ClientSpec,
  body: (deadline: number) => Promise<number>,
  perOp = true,
): Promise<void> {
  await stats(spec);
  if (spec.warmup > 0) await body(now() + spec.warmup);
  for (let rep = 0; rep < spec.reps; rep++) {
    const s0 = await serverCpu(spec);
    const c0 = cpuSeconds();
    const t0 = now();
    const ops = await body(t0 + spec.seconds);
    const dt = now() - t0;
    const c1 = cpuSeconds();
    const s1 = await serverCpu(spec);
    const r: RepResult = { rep, value: ops / dt, ops, seconds: dt };
    if (perOp && ops > 0) {
      r.clientCpuPer10k = (c1 - c0) / ops * 1e4;
      r.serverCpuPer10k = (s1 - s0) / ops * 1e4;
      r.cpuPer10k = r.clientCpuPer10k + r.serverCpuPer10k;
    }
    emit(r);
  }
}

async function open(spec: ClientSpec): Promise<BenchProxy> {
  return await connect<Bench>(spec.uri, { serializer: spec.serializer });
}

async function run(spec: ClientSpec): Promise<void> {
  switch (spec.scenario) {
    case "calls": {
      const p = await open(spec);
      await timed(spec, async (deadline) => {
        let n = 0;
        while (n < spec.count) {
          await p.echo(SMALL);
          if ((++n & 63) === 0 && now() > deadline) break;
        }
        return n;
      });
      break;
    }
    case "pipelined": {
      const p = await open(spec);
      const width = spec.width ?? 64;
      await timed(spec, async (deadline) => {
        let n = 0;
        const worker = async () => {
          while (n < spec.count && now() < deadline) {
            n++;
            await p.echo(SMALL);
          }
        };
        await Promise.all(Array.from({ length: width }, worker));
        return n;
      });
      break;
    }
    case "oneway": {
      const p = await open(spec);
      await timed(spec, async (deadline) => {
        await p.reset();
        let n = 0;
        while (n < spec.count) {
          await p.inc();
          if ((++n & 63) === 0 && now() > deadline) break;
        }
        // executed on the server: wait until it counted them all
        const limit = now() + 30;
        while ((await p.count()) < n && now() < limit) { /* poll */ }
        return n;
      });
      break;
    }
    case "batch": {
      const p = await open(spec);
      const size = spec.width ?? 1000;
      await timed(spec, async (deadline) => {
        let n = 0;
        while (n < spec.count) {
          const b = batch<Bench>(p);
          for (let i = 0; i < size; i++) b.echo(SMALL);
          const results = await b.$send();
          if (results.length !== size) throw new Error(`batch returned ${results.length}`);
          n += size;
          if (now() > deadline) break;
        }
        return n;
      });
      break;
    }
    case "connect": {
      await timed(spec, async (deadline) => {
        let n = 0;
        while (n < spec.count) {
          // connects on the first call, which goes out right behind the handshake
          const p = createProxy<Bench>(spec.uri, { serializer: spec.serializer });
          await p.echo(1);
          controlOf(p).release();
          if ((++n & 7) === 0 && now() > deadline) break;
        }
        return n;
      });
      break;
    }
    case "bulk": {
      const p = await open(spec);
      const data = new Uint8Array(spec.count);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
      const check = await p.echo(data) as Uint8Array;
      if (!(check instanceof Uint8Array) || check.length !== data.length) {
        throw new Error("bulk echo did not return the bytes");
      }
      await timed(spec, async (deadline) => {
        let n = 0;
        do {
          await p.echo(data);
          n++;
        } while (now() < deadline);
        // bytes carried: the payload goes there and back
        return n * 2 * data.length / 1e6;
      }, false);
      break;
    }
    case "iter": {
      // Tyro may prefetch: `width` item requests in flight (Pyro5 asks one at a time)
      const p = await connect<Bench>(spec.uri, {
        serializer: spec.serializer,
        prefetch: spec.width ?? 0,
      });
      await timed(spec, async () => {
        let n = 0;
        for await (const _ of p.gen(spec.count)) n++;
        if (n !== spec.count) throw new Error(`iterator gave ${n} items`);
        return n;
      });
      break;
    }
    case "ns": {
      const { locateNs } = await import("../nameserver.ts");
      const u = new URL(spec.uri.replace(/^PYRO:[^@]*@/, "tcp://"));
      const ns = await locateNs(u.hostname, Number(u.port), { serializer: spec.serializer });
      await timed(spec, async (deadline) => {
        let n = 0;
        while (n < spec.count) {
          await ns.lookup("bench.obj");
          if ((++n & 31) === 0 && now() > deadline) break;
        }
        return n;
      });
      break;
    }
    case "concurrent": {
      // `width` proxies in this process, each doing `count` calls one at a
      // time; the orchestrator starts every process of a repetition together.
      const width = spec.width ?? 1;
      const proxies = await Promise.all(Array.from({ length: width }, () => open(spec)));
      const next = stdinLines();
      for (let rep = 0; rep < spec.reps + (spec.warmup > 0 ? 1 : 0); rep++) {
        emit({ ready: rep });
        if ((await next()) === null) return;
        const start = Date.now() / 1000;
        await Promise.all(proxies.map(async (p) => {
          for (let i = 0; i < spec.count; i++) await p.echo(SMALL);
        }));
        emit({ rep, start, end: Date.now() / 1000, calls: spec.count * width });
      }
      break;
    }
    case "hold": {
      // Opens connections in steps, each with a handshake and one call, and
      // keeps them; after each step every connection must answer again.
      const held: BenchProxy[] = [];
      const st = (await stats(spec))!;
      const base = await st.rss();
      let maxOk = 0;
      for (const target of spec.steps ?? [spec.count]) {
        let failed: string | null = null;
        const t0 = now();
        while (held.length < target && !failed) {
          const chunk = Math.min(100, target - held.length);
          const got = await Promise.allSettled(
            Array.from({ length: chunk }, async () => {
              const p = await connect<Bench>(spec.uri, {
                serializer: spec.serializer,
                timeout: 10000,
              });
              held.push(p);
              await p.echo(1);
            }),
          );
          const bad = got.find((g) => g.status === "rejected") as PromiseRejectedResult | undefined;
          if (bad) failed = String((bad.reason as Error)?.message ?? bad.reason);
          if (now() - t0 > spec.seconds) failed ??= "time limit";
        }
        await new Promise((r) => setTimeout(r, 200));
        const rss = await st.rss();
        // every held connection answers once more, all at the same time
        const answers = await Promise.allSettled(held.map((p) => p.echo(2)));
        const answered = answers.filter((a) => a.status === "fulfilled").length;
        // connections refused at this step do not count; every held one must answer
        if (answered === held.length) maxOk = Math.max(maxOk, held.length);
        emit({
          step: target,
          held: held.length,
          answered,
          serverRss: rss,
          baseRss: base,
          perConnection: held.length ? (rss - base) / held.length : null,
          error: failed,
        });
        if (failed || answered !== held.length) break;
      }
      emit({ rep: 0, value: maxOk });
      for (const p of held) controlOf(p).release();
      break;
    }
    default:
      throw new Error(`unknown scenario ${spec.scenario}`);
  }
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0]) as ClientSpec;
  await run(spec);
  emit({ done: true });
  Deno.exit(0);
}
