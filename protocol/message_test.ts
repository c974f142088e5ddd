import assert from "node:assert/strict";
import { MessageTooLargeError, ProtocolError } from "../errors.ts";
import { manifest, vectorBytes } from "../tests/_vectors.ts";
import {
  decodeMessage,
  encodeMessage,
  encodeMessageParts,
  Flags,
  HEADER_SIZE,
  type Message,
  MessageReader,
  MessageType,
  uuidFromBytes,
  uuidToBytes,
} from "./mod.ts";
import { joinParts } from "./message.ts";

const b64 = (s: string) => Uint8Array.fromBase64(s);
const hex = (b: Uint8Array | null) =>
  b ? [...b].map((x) => x.toString(16).padStart(2, "0")).join("") : "0".repeat(32);

Deno.test("decodeMessage() reads every Pyro5 vector exactly as the manifest says", () => {
  const msgs = manifest().messages;
  assert.ok(msgs.length >= 671);
  for (const m of msgs) {
    const bytes = vectorBytes(m.file);
    assert.equal(bytes.length, m.total_size, m.file);
    assert.equal(bytes.length, HEADER_SIZE + m.annotations_size + m.data_size, m.file);
    const msg = decodeMessage(bytes);
    assert.equal(msg.type, m.msg_type, m.file);
    assert.equal(msg.serializerId, m.serializer_id, m.file);
    assert.equal(msg.flags, m.flags & ~Flags.COMPRESSED, m.file);
    assert.equal(msg.seq, m.seq, m.file);
    assert.equal(hex(msg.correlationId), m.corr_id, m.file);
    assert.deepEqual(
      Object.fromEntries([...msg.annotations].map(([k, v]) => [k, v.toBase64()])),
      Object.fromEntries(Object.entries(m.annotations).map(([k, v]) => [k, v.$bytes])),
      m.file,
    );
    assert.equal(msg.payload.length, m.payload_size, m.file);
    if (m.compressed) {
      assert.deepEqual(msg.payload, b64(m.payload_uncompressed!.$bytes), m.file);
    }
    if (m.msg_type === MessageType.PING) {
      assert.equal(m.serializer_id, 42);
      assert.ok(["ping", "pong"].includes(new TextDecoder().decode(msg.payload)));
    }
  }
});

Deno.test("encodeMessage() reproduces every uncompressed vector byte for byte", () => {
  let compared = 0;
  for (const m of manifest().messages) {
    const bytes = vectorBytes(m.file);
    const msg = decodeMessage(bytes);
    const again = encodeMessage(
      { ...msg, flags: msg.flags },
      { compress: m.compressed },
    );
    if (!m.compressed) {
      assert.deepEqual(again, bytes, m.file);
      compared++;
    } else {
      const back = decodeMessage(again);
      assert.deepEqual(back.payload, msg.payload, m.file);
      assert.equal(back.flags & Flags.COMPRESSED, 0);
      assert.equal(again[9] & Flags.COMPRESSED, Flags.COMPRESSED, m.file);
    }
  }
  assert.ok(compared > 600);
});

Deno.test("encodeMessage() compresses only payloads over 100 bytes", () => {
  const small = encodeMessage({ type: 5, serializerId: 1, payload: new Uint8Array(100) }, {
    compress: true,
  });
  assert.equal(small[9] & Flags.COMPRESSED, 0);
  const big = encodeMessage({ type: 5, serializerId: 1, payload: new Uint8Array(101) }, {
    compress: true,
  });
  assert.equal(big[9] & Flags.COMPRESSED, Flags.COMPRESSED);
  assert.ok(big.length < 101 + HEADER_SIZE);
  assert.deepEqual(decodeMessage(big).payload, new Uint8Array(101));
});

Deno.test("encodeMessage() refuses a message over the maximum size and bad annotation ids", () => {
  assert.throws(
    () =>
      encodeMessage({ type: 4, serializerId: 1, payload: new Uint8Array(11) }, {
        maxMessageSize: 10,
      }),
    (e) => e instanceof MessageTooLargeError && e.message === "message too large (11, max=10)",
  );
  assert.throws(
    () =>
      encodeMessage({
        type: 4,
        serializerId: 1,
        annotations: { ABC: new Uint8Array() },
        payload: new Uint8Array(),
      }),
    (e) => e instanceof ProtocolError && /4 ascii characters/.test(e.message),
  );
});

Deno.test("correlation ids set the CORR_ID flag and round-trip as uuids", () => {
  const id = uuidToBytes("5eed0000-0000-4000-8000-000000000001");
  const bytes = encodeMessage({
    type: 5,
    serializerId: 1,
    correlationId: id,
    payload: new Uint8Array(),
  });
  const msg = decodeMessage(bytes);
  assert.equal(msg.flags & Flags.CORR_ID, Flags.CORR_ID);
  assert.equal(uuidFromBytes(msg.correlationId!), "5eed0000-0000-4000-8000-000000000001");
});

function allVectorStream(): { stream: Uint8Array; count: number } {
  const parts = manifest().messages.slice(0, 120).map((m) => vectorBytes(m.file));
  const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) stream.set(p, o), o += p.length;
  return { stream, count: parts.length };
}

Deno.test("MessageReader reassembles messages from chunks of any size", async (t) => {
  const { stream, count } = allVectorStream();
  const expected = new MessageReader().push(stream);
  assert.equal(expected.length, count);
  for (const size of [1, 2, 3, 7, 39, 40, 41, 100, 4096]) {
    await t.step(`chunks of ${size} bytes`, () => {
      const reader = new MessageReader();
      const got = [];
      const buf = new Uint8Array(size);
      for (let i = 0; i < stream.length; i += size) {
        const n = Math.min(size, stream.length - i);
        buf.set(stream.subarray(i, i + n));
        got.push(...reader.push(buf.subarray(0, n))); // the buffer is reused, as transports do
      }
      assert.equal(reader.buffered, 0);
      assert.deepEqual(got, expected);
    });
  }
  await t.step("a header split at byte 3 and a length field cut in half", () => {
    const one = vectorBytes(manifest().messages[2].file);
    const reader = new MessageReader();
    assert.deepEqual(reader.push(one.subarray(0, 3)), []);
    assert.deepEqual(reader.push(one.subarray(3, 14)), []);
    assert.ok(reader.inMessage);
    const out = reader.push(one.subarray(14));
    assert.equal(out.length, 1);
    assert.equal(reader.inMessage, false);
  });
});

Deno.test("MessageReader refuses garbage as soon as it sees it", async (t) => {
  const good = vectorBytes(manifest().messages[0].file);
  await t.step("a wrong tag at the first byte", () => {
    assert.throws(
      () => new MessageReader().push(new TextEncoder().encode("G")),
      (e) =>
        e instanceof ProtocolError &&
        e.message === "Cannot decode message header: tag is not PYRO (byte 0 is 0x47)",
    );
  });
  await t.step("a wrong version", () => {
    const bad = good.slice();
    bad[5] = 0xf5; // 501
    assert.throws(
      () => new MessageReader().push(bad.subarray(0, 6)),
      (e) =>
        e instanceof ProtocolError &&
        e.message === "Cannot decode message header: invalid protocol version: 501",
    );
  });
  await t.step("a wrong magic number", () => {
    const bad = good.slice();
    bad[39] = 0;
    assert.throws(
      () => new MessageReader().push(bad),
      (e) =>
        e instanceof ProtocolError &&
        e.message === "Cannot decode message header: magic number is 0x4d00",
    );
  });
  await t.step("an oversized declared length, before allocating", () => {
    const bad = good.slice(0, HEADER_SIZE);
    new DataView(bad.buffer).setUint32(12, 0xffffffff);
    assert.throws(
      () => new MessageReader({ maxMessageSize: 1 << 20 }).push(bad),
      (e) =>
        e instanceof MessageTooLargeError &&
        e.message === `message too large (${0xffffffff}, max=1048576)`,
    );
  });
  await t.step("annotations that overrun their declared size", () => {
    const bytes = encodeMessage({
      type: 4,
      serializerId: 1,
      annotations: { XTRA: new Uint8Array(4) },
      payload: new Uint8Array(8),
    });
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(HEADER_SIZE + 4, 9);
    assert.throws(() => decodeMessage(bytes), ProtocolError);
  });
  await t.step("a corrupt compressed payload", () => {
    const bytes = encodeMessage({ type: 4, serializerId: 1, payload: new Uint8Array(8) });
    bytes[9] |= Flags.COMPRESSED;
    assert.throws(
      () => decodeMessage(bytes),
      (e) => e instanceof ProtocolError && /decompress/.test(e.message),
    );
  });
  await t.step("a compression bomb beyond the maximum size", () => {
    const bytes = encodeMessage({ type: 4, serializerId: 1, payload: new Uint8Array(1 << 20) }, {
      compress: true,
    });
    assert.throws(
      () => new MessageReader({ maxMessageSize: 1 << 16 }).push(bytes),
      MessageTooLargeError,
    );
  });
});

Deno.test("MessageReader ends mutated vectors in ProtocolError or valid messages, never another error", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (const m of manifest().messages.slice(0, 200)) {
    const bytes = vectorBytes(m.file);
    for (let k = 0; k < 20; k++) {
      const bad = bytes.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
      const cut = bad.subarray(0, Math.floor(rnd() * (bad.length + 1)));
      try {
        new MessageReader({ maxMessageSize: 1 << 20 }).push(cut);
      } catch (e) {
        assert.ok(e instanceof ProtocolError, `${m.file}: ${e}`);
      }
    }
  }
});

Deno.test("encodeMessageParts() passes payload parts on without joining them", () => {
  const big = new Uint8Array(100_000).fill(7);
  const parts = [new Uint8Array([1, 2, 3]), big, new Uint8Array([9])];
  const msg = { type: MessageType.RESULT, serializerId: 4, seq: 5, payload: parts };
  const out = encodeMessageParts(msg);
  assert.equal(out.length, 4);
  assert.equal(out[0].length, HEADER_SIZE);
  assert.equal(out[2], big);
  const whole = encodeMessage(msg);
  assert.deepEqual(joinParts(out), whole);
  const back = decodeMessage(whole);
  assert.equal(back.payload.length, 100_004);
  assert.deepEqual([...back.payload.subarray(0, 4)], [1, 2, 3, 7]);
  // compression needs the whole payload: the parts are joined first
  const compressed = encodeMessageParts(msg, { compress: true });
  assert.equal(compressed.length, 1);
  assert.deepEqual(decodeMessage(compressed[0]).payload, back.payload);
});

Deno.test("MessageReader reads a large body in place through bodyTarget()", () => {
  const payload = new Uint8Array(200_000);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  const bytes = encodeMessage({ type: MessageType.INVOKE, serializerId: 2, seq: 1, payload });
  const reader = new MessageReader();
  assert.equal(reader.bodyTarget(1), null);
  assert.deepEqual(reader.push(bytes.subarray(0, 1000)), []);
  assert.equal(reader.bodyTarget(300_000), null);
  let target = reader.bodyTarget(64 * 1024)!;
  assert.equal(target.length, 200_000 - 960);
  target.set(bytes.subarray(1000, 51_000));
  assert.equal(reader.bodyWritten(50_000), null);
  target = reader.bodyTarget(1)!;
  assert.equal(target.length, 200_000 - 50_960);
  target.set(bytes.subarray(51_000));
  const msg = reader.bodyWritten(target.length)!;
  assert.deepEqual(msg.payload, payload);
  assert.equal(reader.inMessage, false);
  assert.equal(reader.bodyTarget(1), null);
  assert.throws(() => reader.bodyWritten(1), RangeError);
});

Deno.test("MessageReader.prepareBody() readies a buffer for the next large body", () => {
  const message = (size: number, fill: number) =>
    encodeMessage({
      type: MessageType.RESULT,
      serializerId: 2,
      seq: 1,
      payload: new Uint8Array(size).fill(fill),
    });
  const reader = new MessageReader();
  reader.prepareBody(); // nothing large received yet: nothing to prepare
  const first = reader.push(message(200_000, 1))[0];
  assert.equal(first.payload.buffer.byteLength, 200_000);
  // a large body was received: the next one of about that size takes a buffer made ahead
  reader.prepareBody();
  const bytes = message(199_000, 2);
  assert.deepEqual(reader.push(bytes.subarray(0, 100)), []);
  const second = reader.push(bytes.subarray(100))[0];
  assert.deepEqual(second.payload, new Uint8Array(199_000).fill(2));
  assert.equal(second.payload.buffer.byteLength, 256 * 1024);
  // taken: a body arriving now gets a new buffer
  assert.equal(reader.push(message(199_000, 3))[0].payload.buffer.byteLength, 199_000);
  assert.deepEqual(first.payload, new Uint8Array(200_000).fill(1));
});

Deno.test("MessageReader.landing(): a large message like the last one stays where it is read", () => {
  const message = (size: number, fill: number, seq: number) =>
    encodeMessage({
      type: MessageType.RESULT,
      serializerId: 2,
      seq,
      payload: new Uint8Array(size).fill(fill),
    });
  const reader = new MessageReader();
  const out: (Message | null)[] = [];
  assert.equal(reader.landing(), null); // nothing large received yet
  reader.push(message(200_000, 1, 1));
  // the next message read into the landing, in two reads: its body is a view of the landing
  const second = message(199_000, 2, 2);
  let landing = reader.landing()!;
  assert.ok(landing.length >= second.length);
  landing.set(second.subarray(0, 5000));
  assert.equal(reader.pushLanded(landing, 5000, out), 0);
  assert.equal(reader.inMessage, true);
  const target = reader.bodyTarget(1)!;
  assert.equal(target.buffer, landing.buffer);
  target.set(second.subarray(5000));
  const msg = reader.bodyWritten(target.length)!;
  assert.equal(msg.seq, 2);
  assert.deepEqual(msg.payload, new Uint8Array(199_000).fill(2));
  assert.equal(msg.payload.buffer, landing.buffer);
  assert.equal(msg.payload.byteOffset, HEADER_SIZE);
  // a whole large message and a small one behind it in one read; the small one is copied out
  const small = message(10, 4, 4);
  const third = message(150_000, 3, 3);
  landing = reader.landing()!;
  assert.notEqual(landing.buffer, msg.payload.buffer); // a body in use is never landed on
  landing.set(third);
  landing.set(small, third.length);
  assert.equal(reader.pushLanded(landing, third.length + small.length, out), 2);
  assert.deepEqual([out[0]!.seq, out[1]!.seq], [3, 4]);
  assert.equal(out[0]!.payload.buffer, landing.buffer);
  assert.deepEqual(out[0]!.payload, new Uint8Array(150_000).fill(3));
  assert.notEqual(out[1]!.payload.buffer, landing.buffer);
  assert.deepEqual(out[1]!.payload, new Uint8Array(10).fill(4));
  // a small message instead: read like any chunk, and large ones are no longer expected
  landing = reader.landing()!;
  landing.set(small);
  assert.equal(reader.pushLanded(landing, small.length, out), 1);
  assert.deepEqual(out[0]!.payload, new Uint8Array(10).fill(4));
  assert.notEqual(out[0]!.payload.buffer, landing.buffer);
  assert.equal(reader.landing(), null);
  // the bodies stayed as they came
  assert.deepEqual(msg.payload, new Uint8Array(199_000).fill(2));
});

Deno.test("MessageReader.landing(): the landings out hold at most 8 MiB, and each comes back", () => {
  const big = encodeMessage({
    type: MessageType.RESULT,
    serializerId: 2,
    seq: 1,
    payload: new Uint8Array(1_900_000),
  });
  const readers = Array.from({ length: 5 }, () => new MessageReader());
  for (const r of readers) r.push(big);
  const landings = readers.map((r) => r.landing());
  // four of about 1.9 MB fit, the fifth reader reads into its own buffer
  assert.equal(landings.filter((l) => l !== null).length, 4);
  assert.equal(landings[4], null);
  const out: (Message | null)[] = [];
  // a read that ended the stream gives nothing: the landing goes back, and the next can land
  assert.equal(readers[0].pushLanded(landings[0]!, 0, out), 0);
  const next = readers[4].landing()!;
  assert.ok(next !== null);
  // a malformed message in a landing is refused, and the landing goes back all the same
  next.set(new TextEncoder().encode("XYRO"));
  assert.throws(() => readers[4].pushLanded(next, HEADER_SIZE, out), ProtocolError);
  for (const i of [1, 2, 3]) readers[i].pushLanded(landings[i]!, 0, out);
  // all back: four land again
  const fresh = Array.from({ length: 5 }, () => new MessageReader());
  for (const r of fresh) r.push(big);
  const again = fresh.map((r) => r.landing());
  assert.equal(again.filter((l) => l !== null).length, 4);
  for (let i = 0; i < 4; i++) fresh[i].pushLanded(again[i]!, 0, out);
});

Deno.test("MessageReader.push() takes only the first `length` bytes of a chunk", () => {
  const bytes = encodeMessage({
    type: MessageType.RESULT,
    serializerId: 2,
    seq: 7,
    payload: new Uint8Array([1, 2, 3]),
  });
  const reader = new MessageReader();
  const buf = new Uint8Array(100).fill(0xee); // garbage after the stream bytes
  buf.set(bytes.subarray(0, 20));
  assert.deepEqual(reader.push(buf, 20), []);
  buf.set(bytes.subarray(20));
  const [msg] = reader.push(buf, bytes.length - 20);
  assert.equal(msg.seq, 7);
  assert.deepEqual(msg.payload, new Uint8Array([1, 2, 3]));
  assert.equal(reader.inMessage, false);
});

Deno.test("MessageReader.pushInto() fills the caller's array and reads like decodeMessage()", () => {
  const corr = uuidToBytes("5eed0000-0000-4000-8000-000000000001");
  const messages = [
    // plain: read in one piece, correlation id and payload copied out of the reused buffer
    encodeMessage({
      type: MessageType.RESULT,
      serializerId: 4,
      seq: 1,
      payload: new Uint8Array([9]),
    }),
    encodeMessage({
      type: MessageType.INVOKE,
      serializerId: 1,
      seq: 2,
      correlationId: corr,
      payload: new Uint8Array([1, 2, 3]),
    }),
    encodeMessage({ type: MessageType.PING, serializerId: 42, seq: 3, payload: new Uint8Array(0) }),
    // not plain: annotations, a compressed payload
    encodeMessage({
      type: MessageType.RESULT,
      serializerId: 2,
      seq: 4,
      annotations: new Map([["XYZZ", new Uint8Array([7, 7])]]),
      payload: new Uint8Array([4]),
    }),
    encodeMessage({
      type: MessageType.RESULT,
      serializerId: 2,
      seq: 5,
      payload: new Uint8Array(300).fill(5),
    }, { compress: true }),
  ];
  const stream = joinParts(messages);
  const buf = new Uint8Array(stream.length + 10);
  buf.set(stream);
  const out: (ReturnType<typeof decodeMessage> | null)[] = [null, null, null, null, null, null];
  const sentinel = out[5];
  const count = new MessageReader().pushInto(buf, stream.length, out);
  assert.equal(count, 5);
  assert.equal(out[5], sentinel); // slots past the count are left alone
  buf.fill(0xee); // the transport reuses its buffer: nothing read may change
  for (let i = 0; i < 5; i++) assert.deepEqual(out[i], decodeMessage(messages[i]));
  assert.deepEqual(out[1]!.correlationId, corr);
  assert.equal(out[0]!.correlationId, null);
  assert.equal(out[4]!.flags & Flags.COMPRESSED, 0);
  // a reader whose correlation ids nobody reads leaves them out, on every path
  const noIds = new MessageReader({ correlationIds: false });
  const withId = (annotations?: Map<string, Uint8Array>) =>
    encodeMessage({
      type: MessageType.RESULT,
      serializerId: 4,
      seq: 6,
      correlationId: corr,
      annotations,
      payload: new Uint8Array([6]),
    });
  const plain = withId(), annotated = withId(new Map([["XYZZ", new Uint8Array([1])]]));
  assert.equal(
    noIds.pushInto(joinParts([plain, annotated]), plain.length + annotated.length, out),
    2,
  );
  assert.equal(out[0]!.correlationId, null);
  assert.equal(out[1]!.correlationId, null);
  assert.deepEqual(out[0]!.payload, new Uint8Array([6]));
  assert.equal(noIds.push(plain.subarray(0, 30)).length, 0); // a header split across reads
  assert.equal(noIds.push(plain.subarray(30))[0].correlationId, null);
  // a body cut off at the end of a chunk waits for the rest
  const reader = new MessageReader();
  assert.equal(reader.pushInto(messages[1], HEADER_SIZE + 1, out), 0);
  assert.equal(reader.pushInto(messages[1].subarray(HEADER_SIZE + 1), 2, out), 1);
  assert.deepEqual(out[0], decodeMessage(messages[1]));
});
