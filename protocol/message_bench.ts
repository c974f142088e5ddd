/**
 * Benchmarks of the wire protocol layer, no I/O: header encode/decode,
 * whole small messages, and the incremental {@linkcode MessageReader} on
 * small messages and on a 1 MB message arriving in 64 KB chunks (what the
 * read loop hands it).
 *
 * Run: `deno bench protocol/message_bench.ts`
 *
 * @module
 */

import { decodeHeader, decodeMessage, encodeMessage } from "./message.ts";
import { MessageReader } from "./message_reader.ts";
import { MessageType } from "./constants.ts";

const SMALL_PAYLOAD = new Uint8Array(48).map((_, i) => i);
const CORR = new Uint8Array(16).map((_, i) => i + 1);
const NO_ANNOTATIONS = new Map<string, Uint8Array>();
const SMALL = encodeMessage({
  type: MessageType.INVOKE,
  serializerId: 4,
  seq: 7,
  payload: SMALL_PAYLOAD,
});
const SMALL_CORR = encodeMessage({
  type: MessageType.RESULT,
  serializerId: 4,
  seq: 7,
  correlationId: CORR,
  annotations: new Map([["CORR", CORR]]),
  payload: SMALL_PAYLOAD,
});
const HEADER = SMALL.subarray(0, 40);
const TEN = new Uint8Array(SMALL.length * 10);
for (let i = 0; i < 10; i++) TEN.set(SMALL, i * SMALL.length);

const MB = 1_000_000;
const BIG = encodeMessage({
  type: MessageType.RESULT,
  serializerId: 4,
  seq: 1,
  payload: new Uint8Array(MB).map((_, i) => (i * 31) & 0xff),
});
const CHUNK = 64 * 1024;
const BIG_CHUNKS: Uint8Array[] = [];
for (let o = 0; o < BIG.length; o += CHUNK) BIG_CHUNKS.push(BIG.subarray(o, o + CHUNK));

Deno.bench("encode small message (48 B payload)", { group: "small", baseline: true }, () => {
  encodeMessage({
    type: MessageType.INVOKE,
    serializerId: 4,
    seq: 7,
    correlationId: null,
    annotations: NO_ANNOTATIONS,
    payload: SMALL_PAYLOAD,
  });
});

Deno.bench("encode small message with correlation id + annotation", { group: "small" }, () => {
  encodeMessage({
    type: MessageType.RESULT,
    serializerId: 4,
    seq: 7,
    correlationId: CORR,
    annotations: new Map([["CORR", CORR]]),
    payload: SMALL_PAYLOAD,
  });
});

Deno.bench("decode header", { group: "small" }, () => {
  decodeHeader(HEADER);
});

Deno.bench("decode small message", { group: "small" }, () => {
  decodeMessage(SMALL);
});

Deno.bench("decode small message with correlation id + annotation", { group: "small" }, () => {
  decodeMessage(SMALL_CORR);
});

const reader = new MessageReader();

Deno.bench("MessageReader: one small message per chunk", { group: "reader small" }, () => {
  reader.push(SMALL);
});

Deno.bench("MessageReader: 10 small messages in one chunk (per chunk)", {
  group: "reader small",
}, () => {
  reader.push(TEN);
});

const head = SMALL.subarray(0, 20), tail = SMALL.subarray(20);
Deno.bench("MessageReader: small message split in 2 chunks", { group: "reader small" }, () => {
  reader.push(head);
  reader.push(tail);
});

Deno.bench("MessageReader: 1 MB message in 64 KB chunks", { group: "reader 1 MB" }, () => {
  let n = 0;
  for (const c of BIG_CHUNKS) n += reader.push(c).length;
  if (n !== 1) throw new Error("expected one message");
});

Deno.bench("decodeMessage: 1 MB message in one piece (no copy)", { group: "reader 1 MB" }, () => {
  decodeMessage(BIG);
});

Deno.bench("copy 1 MB (new Uint8Array + set), for scale", { group: "reader 1 MB" }, () => {
  new Uint8Array(BIG.length).set(BIG);
});
