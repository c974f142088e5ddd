/**
 * The floor and ceiling of the side-by-side benchmark: plain Deno TCP on
 * loopback with raw `conn.read`/`conn.write` and TCP_NODELAY, no framing
 * library, no serializer.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/_raw.ts server          # prints READY <port>
 * deno run --allow-net=127.0.0.1 --allow-read=/proc bench/_raw.ts client '<json spec>'
 * ```
 *
 * The client's first byte picks the mode: `P` ping-pong (48-byte messages
 * echoed one at a time), `B` bulk (the client streams bytes, the server
 * answers one byte per 1 MB received), `E` echo (messages of `count` bytes
 * echoed whole, each read into a new buffer as a decoder that hands the
 * bytes to its caller must), `C` connect (one 48-byte round trip, then the
 * client closes), `S` stats (the server's CPU seconds and RSS as two float64).
 *
 * @module
 */

import process from "node:process";
import { type ClientSpec, cpuSeconds, emit, now, type RepResult } from "./_common.ts";

const MSG = 48;
const CHUNK = 1 << 20;

async function readFull(conn: Deno.Conn, buf: Uint8Array): Promise<boolean> {
  let off = 0;
  while (off < buf.length) {
    const n = await conn.read(off ? buf.subarray(off) : buf);
    if (n === null) return false;
    off += n;
  }
  return true;
}

async function writeFull(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await conn.write(off ? buf.subarray(off) : buf);
}

async function serveConn(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const mode = new Uint8Array(1);
  try {
    if (!(await readFull(conn, mode))) return;
    if (mode[0] === 0x53) {
      const u = process.cpuUsage();
      const out = new Float64Array([(u.user + u.system) / 1e6, Deno.memoryUsage().rss]);
      await writeFull(conn, new Uint8Array(out.buffer));
    } else if (mode[0] === 0x50) {
      const buf = new Uint8Array(MSG);
      while (await readFull(conn, buf)) await writeFull(conn, buf);
    } else if (mode[0] === 0x43) {
      const buf = new Uint8Array(MSG);
      if (await readFull(conn, buf)) await writeFull(conn, buf);
    } else if (mode[0] === 0x45) {
      const head = new Uint8Array(4);
      if (!(await readFull(conn, head))) return;
      const size = new DataView(head.buffer).getUint32(0);
      while (true) {
        const buf = new Uint8Array(size);
        if (!(await readFull(conn, buf))) break;
        await writeFull(conn, buf);
      }
    } else {
      const buf = new Uint8Array(256 * 1024);
      const ack = new Uint8Array(1);
      let got = 0;
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        got += n;
        while (got >= CHUNK) {
          got -= CHUNK;
          await writeFull(conn, ack);
        }
      }
    }
  } catch {
    /* peer went away */
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function server(): Promise<void> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // deno-lint-ignore no-console
  console.log(`READY ${(l.addr as Deno.NetAddr).port}`);
  (async () => {
    const b = new Uint8Array(64);
    try {
      while ((await Deno.stdin.read(b)) !== null) { /* wait for EOF */ }
    } catch { /* closed */ }
    Deno.exit(0);
  })();
  for await (const c of l) serveConn(c as Deno.TcpConn);
}

async function serverCpu(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeFull(conn, new Uint8Array([0x53]));
  const buf = new Uint8Array(16);
  await readFull(conn, buf);
  conn.close();
  return new Float64Array(buf.buffer)[0];
}

async function client(spec: ClientSpec): Promise<void> {
  const port = Number(spec.uri);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const bulk = spec.scenario === "bulk";
  const mode = spec.scenario === "connect"
    ? 0x43
    : spec.scenario === "echo"
    ? 0x45
    : bulk
    ? 0x42
    : 0x50;
  await writeFull(conn, new Uint8Array([mode]));
  if (mode === 0x45) {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, spec.count);
    await writeFull(conn, head);
  }
  const body = mode === 0x43
    ? async (deadline: number) => {
      // new connections: connect, one 48-byte round trip, close
      const buf = new Uint8Array(MSG);
      let n = 0;
      do {
        for (let i = 0; i < 8; i++) {
          const c = await Deno.connect({ hostname: "127.0.0.1", port });
          c.setNoDelay(true);
          await writeFull(c, new Uint8Array([0x43]));
          await writeFull(c, buf);
          if (!(await readFull(c, buf))) throw new Error("closed");
          c.close();
          n++;
        }
      } while (now() < deadline);
      return n;
    }
    : mode === 0x45
    ? async (deadline: number) => {
      // MB/s both ways, a new buffer for each message read
      const data = new Uint8Array(spec.count);
      let n = 0;
      do {
        await writeFull(conn, data);
        if (!(await readFull(conn, new Uint8Array(spec.count)))) throw new Error("closed");
        n++;
      } while (now() < deadline);
      return 2 * n * spec.count / 1e6;
    }
    : bulk
    ? async (deadline: number) => {
      // MB streamed one way; the server acknowledges each MB
      const data = new Uint8Array(CHUNK);
      const ack = new Uint8Array(64);
      let sent = 0, acked = 0;
      const reader = async () => {
        while (acked < sent || sent === 0) {
          const n = await conn.read(ack);
          if (n === null) throw new Error("closed");
          acked += n;
        }
      };
      do {
        for (let i = 0; i < 16; i++) await writeFull(conn, data);
        sent += 16;
      } while (now() < deadline);
      await reader();
      return sent * CHUNK / 1e9;
    }
    : async (deadline: number) => {
      const buf = new Uint8Array(MSG);
      let n = 0;
      while (n < spec.count) {
        await writeFull(conn, buf);
        if (!(await readFull(conn, buf))) throw new Error("closed");
        if ((++n & 255) === 0 && now() > deadline) break;
      }
      return n;
    };
  if (spec.warmup > 0) await body(now() + spec.warmup);
  for (let rep = 0; rep < spec.reps; rep++) {
    const s0 = await serverCpu(port);
    const c0 = cpuSeconds();
    const t0 = now();
    const ops = await body(t0 + spec.seconds);
    const dt = now() - t0;
    const c1 = cpuSeconds();
    const s1 = await serverCpu(port);
    const r: RepResult = { rep, value: ops / dt, ops, seconds: dt };
    if (mode === 0x50) {
      r.clientCpuPer10k = (c1 - c0) / ops * 1e4;
      r.serverCpuPer10k = (s1 - s0) / ops * 1e4;
      r.cpuPer10k = r.clientCpuPer10k + r.serverCpuPer10k;
    }
    emit(r);
  }
  conn.close();
}

if (import.meta.main) {
  if (Deno.args[0] === "server") await server();
  else {
    await client(JSON.parse(Deno.args[1]) as ClientSpec);
    emit({ done: true });
    Deno.exit(0);
  }
}
