/**
 * The hand-written part of `docs/benchmarks.md`: how to read the figures,
 * what was changed to get them, and the targets still missed with why.
 * `bench/compare.ts` appends it after the generated tables; after editing,
 * `deno run --allow-read --allow-write=docs --allow-run bench/compare.ts --render`
 * rewrites the report from `docs/benchmarks.json` without measuring again.
 *
 * @module
 */

/** Markdown appended to the generated report. */
export const ANALYSIS: string = `
## Notes

### How to read these figures

- The machine is a 2-vCPU VM shared with other work. Its speed changes between runs (raw ping-pong
  has run anywhere from ~10k to ~70k round trips/s), so compare **ratios** within one run, not
  absolute figures across runs. Tyro and Pyro5 take turns (one repetition per process, order
  alternating), and the raw floors are measured in the same rounds as the rows they bound.
- Pyro5 has no pipelining. Its "pipelined" column is its best equivalent: a batch of 64 calls per
  round trip; the target compares Tyro's pipelined calls with Pyro5's one-at-a-time calls, as the
  issue states. Pyro5's json serializer refuses \`bytes\`, so json bulk has no Pyro5 figure. Pyro5's
  default thread server holds at most \`THREADPOOL_SIZE\` (80) connections, one of them the stats probe.
- New connections: both sides create a proxy that connects on its first call (Pyro5's \`Proxy\`
  without \`_pyroBind\`, Tyro's \`createProxy\`). Tyro sends that first call right behind its
  \`CONNECT\`, in the same write; Pyro5 waits for the handshake answer first.
- The "16 own clients" row means 16 proxies in one Deno process for Tyro, and 16 Python processes
  (one proxy each) for Pyro5. The GIL makes threads slower than processes for Pyro5.
- The server CPU is the process's own getrusage, read through a \`bench.stats\` object at the edges of
  each repetition (Deno reads \`/proc/<pid>\` only with \`--allow-all\`).
- Bulk MB/s counts the payload in both directions (2 × size per echo). "Raw bulk" is a one-way stream
  into a reused buffer; "raw echo" is the same echo as the bulk rows in plain Deno, reading each
  message into a new buffer, which any echo must do when it hands the bytes to its caller.

### What changed since the previous report (2026-11-24, third session)

Each change was measured against the commit before it, the two taking turns in the same minutes
(scratch scripts, client and daemon in separate processes, msgpack unless named); the table above is
a full run after all of them.

| Change | Before → after |
| --- | --- |
| A buffer for the next large body (128 KiB to 8 MiB, like the last one received) is allocated after a write, while the peer works, instead of when the next header arrives: a new \`Uint8Array\` is zero-filled, and that used to sit on the path of every large reply. The process holds at most one such buffer | echo 1 MB 2.9 → 4.0 GB/s; no change at 10 MB, where plain Deno gains nothing either |
| V8 kept every short-lived proxy alive through the young-generation collections: a \`WeakMap\` from remote view to \`PyroProxy\` holds its values until a full collection (\`--trace-gc\` showed 3.5 MB promoted per scavenge). The view now hands out its \`PyroProxy\` through a private symbol. A daemon session was five closures, which had V8 promote each connection's objects too; it is now an object with methods | CPU per new connection: client 115 → 100 µs, daemon 88 → 77 µs; new connections 5.5k → 6.7k/s |
| One unref'd timer watches all the half-closed connections (\`release()\` waits up to 1 s for the peer to close) instead of a timer per connection: setting and clearing a timer cost about 10 µs of each new connection's CPU | client 127 → 113 µs per new connection |
| The write loop is callbacks made once per connection instead of an async function per batch; the reader decodes headers and copies small bodies without making \`subarray\` views, and \`push()\` takes a length. V8's heap sampling: 5.4 → 3.9 KB allocated per call in the client | in one process, one call at a time 225k → 241k calls/s, 64 pipelined 750k → 810k |
| The bulk rows warm up for 0.3 s like every other row, on both sides | serpent 1 MB 635 → 870 MB/s (JIT warm-up was inside the measured second) |
| After this run: serpent encodes small texts into shared chunk memory (json's helper, now shared, with an ASCII loop that skips the encoder call) and decodes them with \`TextDecoder\` directly (95 ns, against 180 ns for \`String.fromCharCode.apply\`) | \`deno bench\`: serpent \`dumpsCall\` 1.2 → 0.58 µs, \`dumpsCall\` + \`loadsCall\` 2.5 → 1.8 µs |

Tried and left out: a one-slot fast path for the table of pending calls (in one process up to 40% slower,
pipelined and one at a time); a body buffer ahead of time for 10 MB messages, or one pre-faulted
with \`fill(0)\` (no gain: at 10 MB the socket buffers keep both sides busy, there is no idle time
to hide the allocation in); after a large message, reading only the next header so that the next
body is read in place without the 256 KB copy (no gain: one more read and wake-up per message).

### Earlier changes (2026-11-23, second session)

| Change | Before → after |
| --- | --- |
| Serializers return byte parts (\`dumpsParts\`/\`dumpsCallParts\`): msgpack and marshal pass a \`Uint8Array\` of 64 KiB or more on by reference instead of copying it; \`encodeMessageParts\` passes the parts to the socket; the read loop reads the rest of a large body straight into place (\`MessageReader.bodyTarget\`/\`bodyWritten\`); marshal decodes large bytes as views | echo 1 MB 1.3 → 2.2–2.7 GB/s, 10 MB 1.4 → 1.75 GB/s; marshal 1 MB 1.1 → 2.5 GB/s, 10 MB 0.76 → 1.75 GB/s |
| Serpent: the lenient UTF-8 decoder, with the strict one only when a U+FFFD appears (the strict one is 8× slower on 13 MB); large texts encoded into a buffer of their length; base64 decoded into a buffer of the exact size (\`setFromBase64\`); large bytes as a base64 text of their own in \`dumpsParts\` | echo 1 MB 460 → 780 MB/s, 10 MB 230 → 370 MB/s |
| Calls: one \`Pending\` object per request (no closures unless there is a timeout or a signal), no \`.catch\` per send (a failed write closes the connection and rejects what is pending), no second async frame when \`maxRetries\` is 0, response annotations map made on first use, one shared read-only map for messages without annotations | in one process: pipelined 378k → 495k calls/s |
| Writes: when 16 or more messages queue up in one go (the replies to a pipelined read), they leave at once and the rest follows, so client and daemon work at the same time instead of in turns | pipelined 64 in flight 240k → 300–400k calls/s; serpent 92k → 220k |
| Batches: \`(method, args, kwargs)\` frozen into tuples only for serpent and marshal, one shared kwargs dict, plain loops | batched msgpack 820k → 1.1M calls/s |
| No async frames per call: the daemon serves a plain method synchronously (no promise per message unless the method returns one), and the client settles the caller's promise with the decoded result straight from the read loop | pipelined 400k → 550k calls/s; in one process 495k → 704k; one call at a time ~90% of raw in a quiet period |
| Per-connection buffers cut from the shared slab (the first read buffer, the reader's header, small coalesced writes), and \`release()\` with nothing pending half-closes the socket instead of cancelling the pending read (Deno builds an error with a stack trace for a cancelled read) | client CPU per new connection 247 → 152 µs, daemon 135 → 115 µs; new connections 3.9k → 4.5k/s |
| The handshake is answered synchronously when the hook is, the client holds its \`CONNECT\` back until the first call is queued, and the write loop waits one microtask turn: a new connection costs one write each way | new connections 4.5k → 4.9k/s; in one process, one call at a time 170k → 222k calls/s |
| Handshake pipelining: a new proxy's first call goes out in the same write as its \`CONNECT\` and is checked against the metadata when the answer comes (an unknown method fails as before; a method the daemon marks oneway returns at once). The daemon drops calls behind a refused \`CONNECT\` and disconnects the client once the \`CONNECTFAIL\` is written, as Pyro5 does | new connections 3.1k → 3.9k/s |

### Profiles (\`deno run --cpu-prof\` and \`perf\`, client and daemon in separate processes)

- One call at a time, msgpack (after all the changes): per call the client used 43–45 µs of CPU and
  the daemon 39–44 µs, against 37–40 µs and 35–38 µs for a raw Deno ping-pong of 48 bytes.
  \`perf\` on the daemon: 60–63% kernel (mostly waking the peer: \`_raw_spin_unlock_irqrestore\`,
  \`finish_task_switch\`), 26–31% Deno's own runtime (ops, promises, GC), 5–6.6% JIT-compiled
  JavaScript. The client's V8 profile shows \`op_write\` (the write system call that wakes the
  daemon) and idle time, with every Tyro function under 0.3%: what is left above the raw round trip
  is in Deno's op and promise machinery, not in Tyro's code.
- New connections (this session, per-thread CPU from \`/proc\`): the client's main thread used
  100–105 µs per connection and the daemon's 70–77 µs, against 60 and 50 µs for raw connect, write,
  read, close (the raw client half-closes and waits for the peer as Tyro's \`release()\` does).
  \`strace -c\` counts the same system calls for both, plus one read that sees the end of the stream.
  The client's V8 profile: \`op_net_connect_tcp\` 25%, \`op_write\` 26%, \`op_shutdown\` 18%,
  \`op_close\` 7%, \`op_set_nodelay\` 4%, Tyro's own JavaScript 9%. A raw client that sends the
  same CONNECT and call bytes to the Tyro daemon reaches 8.4–9k connections/s.
- Bulk echo of 1 MB, msgpack, client: \`memset\` 21% (the zero-filling of each new 1 MB body: a new
  \`Uint8Array\` is always zero-filled), kernel copies 23%, page faults 3%. No copy of the payload is
  left in Tyro itself.
- Bulk echo of 10 MB, serpent: \`memchr\` 10% (the string scanner's \`indexOf\` passes over the 13 MB
  literal: closing quote, backslash, CR and LF), \`memset\` 8%, \`memmove\` 5%, base64 and UTF-8 the
  rest.

### Targets missed: by how much, and why

- **One call at a time ≥ 90% of raw ping-pong**: holds for msgpack (90%); marshal 85%, json 81%,
  serpent 73%; above Pyro5 for every serializer (1.22–1.72×). The rows move by several points from
  run to run (msgpack measured 88%, 86% and 85% in the three runs before this one today): a round trip is ~80 µs of
  which the raw socket work is ~74, so 1 µs is more than 1%. Per call, serpent and json cost each
  side a few µs more than msgpack to encode and decode (the call and its result are text).
- **CPU per call ≤ 1.1 × raw**: holds for msgpack in this run (1.08×: client 41.4 + daemon 37.2 µs
  against 37 per side for raw); the two runs before measured 1.16× and 1.13×, and the daemon alone
  is within 1–5% of raw. marshal 1.15×, json 1.20×, serpent 1.41×. The "~40 µs floor" rows use the
  issue's figure from another period: unpinned, the raw round trip alone is 74 µs here; pinned to
  one CPU it is 12 µs and those rows hold (below).
- **Bulk msgpack ≥ 50% of raw bulk**: 48% at 1 MB (54% and 58% in two runs earlier today, 41% in
  another), 33% at 10 MB. Raw bulk is a one-way stream into a reused buffer. An echo that hands its
  bytes to the caller must read each message into a new buffer, and plain Deno doing exactly that
  reached 66% (1 MB) and 38% (10 MB) of raw bulk in the same run: at 10 MB the target is above what
  Deno itself does, and Tyro's 1903 MB/s is 88% of plain Deno's echo. A reused buffer does 4 GB/s at
  10 MB, but Tyro hands out the bytes it reads (a \`Uint8Array\` result is a view of the message), so
  it cannot reuse them. What remains at 1 MB: the header, payload and tail are separate writes
  (Deno has no \`writev\`), and the first 256 KB of each message are copied from the read buffer.
- **Bulk serpent ≥ 5× Pyro5**: holds at 1 MB (6.57×), 4.50× at 10 MB (4.22–4.95× across the runs of
  the last two days). Serpent carries bytes as a base64 text inside a Python literal: each side decodes 13 MB of
  UTF-8 and base64 into new buffers, and encodes them back, all with the runtime's native codecs;
  Pyro5's echo returns the dict untouched and never decodes the base64.
- **New connections ≥ 3× Pyro5**: 2.26× (5783/s vs 2555/s); 2.32× and 2.42× in the two runs before.
  Raw Deno connect, one round trip and close did 8782/s in the same run: 3× Pyro5 would be 87% of
  what plain Deno sockets do with no protocol at all, where Tyro is at 66%. Tyro needs one round
  trip and one write each way per new connection (Pyro5 needs two round trips). The profiles above
  put what is left in the system calls and Deno's handling of them: even a raw client sending
  Tyro's bytes to the Tyro daemon reaches only 8–9k/s.
- **Python clients: Tyro daemon ≥ 3× Pyro5 daemon**: 1.36× in this run (1.25× and 1.51× in the two
  before; 3.4–3.7× in four runs yesterday, when Pyro5's daemon collapsed under the 16 clients).
  Sixteen Python client processes share two cores with the daemon, so the aggregate is set by the
  clients' own CPU: a Pyro5 msgpack client spends ~45–64 µs per call, so even a daemon that cost
  nothing would reach about 2 cores / 50 µs ≈ 40k calls/s. Tyro's daemon reached 28.3k; 3× Pyro5's
  20.9k would be 63k, above that ceiling. Tyro's own 16 clients against its daemon reach 141k
  calls/s.

Held in this run: pipelined 58× Pyro5 one at a time (515k calls/s), batched 3.3× (msgpack) and 19×
(serpent), bulk never below Pyro5 (worst 1.79×), serpent bulk 1 MB 6.6×, remote iterators 23×,
oneway 43–54×, CPU per call 1.08× raw (msgpack), one call at a time 90% of raw (msgpack), 10,000
concurrent connections all answered (Pyro5's thread server: 79), 17 KB per idle connection against
Pyro5's 23 KB.

### Pinned to one CPU ([pinned/benchmarks.md](pinned/benchmarks.md))

With every process on CPU 0 a raw round trip costs 13 µs instead of ~74 µs (no cross-core wake-up),
so per-call JavaScript weighs more and nothing overlaps. One call at a time is 2.2× (msgpack) to
4.2× (serpent) Pyro5; CPU per call is 21.2 µs for msgpack and 30.1 µs for serpent against Pyro5's
45.7 µs and 127 µs (2.2× and 4.2× less; the issue's "~40 µs floor" rows all hold there), and 1.58×
the raw 13.4 µs (1.72× in the previous report): about 8 µs of framing, serialization, dispatch and
promises for client and daemon together. Batched 3.4×, bulk msgpack 60% (1 MB) and 44% (10 MB) of
raw bulk, never below Pyro5. Pipelined is 14× Pyro5 one at a time: Pyro5's one-at-a-time calls are
2.5× faster on one core, while pipelining has no second core to overlap with. New connections
1.73× (1.42× before), iterators 6.9×, Python clients 1.29× (sixteen Python clients on one core).
`;

/** The notes of a run pinned to one CPU (\`--pin\`). */
export const PINNED_NOTE: string =
  "This run had every process on CPU 0 (`taskset -c 0`). Client and daemon take turns on one " +
  "core: no cross-core wake-up (round trips are cheaper and steadier), and no parallelism " +
  "(pipelining, bulk transfers and many clients cannot overlap the two sides). Ratios are " +
  "Tyro/Pyro5 within this run. How the figures are made, the profiles and why targets are " +
  "missed are in the unpinned report, docs/benchmarks.md.";
