/**
 * Encoding and decoding of whole wire messages. No I/O: bytes in, values out.
 *
 * The header (40 bytes, big-endian):
 *
 * | offset | size | field |
 * | --- | --- | --- |
 * | 0x00 | 4 | ASCII `PYRO` |
 * | 0x04 | 2 | protocol version (502) |
 * | 0x06 | 1 | message type |
 * | 0x07 | 1 | serializer id |
 * | 0x08 | 2 | flags |
 * | 0x0A | 2 | sequence number |
 * | 0x0C | 4 | payload length (as on the wire, after compression) |
 * | 0x10 | 4 | total length of the annotation chunks |
 * | 0x14 | 16 | correlation id |
 * | 0x24 | 2 | reserved (0) |
 * | 0x26 | 2 | magic number 0x4DC5 |
 *
 * Annotation chunks follow (4 ASCII bytes id, 4-byte length, data), then
 * the payload.
 *
 * @module
 */

import { deflateSync, inflateSync } from "node:zlib";
import { MessageTooLargeError, ProtocolError } from "../errors.ts";
import { allocate } from "../_slab.ts";
import {
  COMPRESSION_THRESHOLD,
  DEFAULT_MAX_MESSAGE_SIZE,
  Flags,
  HEADER_SIZE,
  MAGIC,
  PROTOCOL_VERSION,
} from "./constants.ts";

/** A decoded message. */
export interface Message {
  /** The message type (see `MessageType`). */
  type: number;
  /** The serializer id (1-4, or 42 for PING). */
  serializerId: number;
  /** The flags, with COMPRESSED cleared once the payload is inflated. */
  flags: number;
  /** The sequence number (0-65535). */
  seq: number;
  /** The 16-byte correlation id, or null when it is all zeros. */
  correlationId: Uint8Array | null;
  /** Annotation chunks by their 4-letter id. */
  annotations: Map<string, Uint8Array>;
  /** The (uncompressed) payload. */
  payload: Uint8Array;
}

/** The fixed header fields. */
export interface MessageHeader {
  /** The message type. */
  type: number;
  /** The serializer id. */
  serializerId: number;
  /** The flags as on the wire. */
  flags: number;
  /** The sequence number. */
  seq: number;
  /** Payload length on the wire. */
  dataSize: number;
  /** Total length of the annotation chunks. */
  annotationsSize: number;
  /** The 16-byte correlation id, or null when all zeros. */
  correlationId: Uint8Array | null;
}

/** Options for {@linkcode encodeMessage}. */
export interface EncodeOptions {
  /**
   * Compress payloads over 100 bytes with zlib, as Pyro5's COMPRESSION.
   *
   * @default {false}
   */
  compress?: boolean;
  /**
   * The largest payload plus annotations allowed.
   *
   * @default {1073741824}
   */
  maxMessageSize?: number;
}

/** Options for decoding. */
export interface DecodeOptions {
  /**
   * The largest payload plus annotations accepted, also after inflating.
   *
   * @default {1073741824}
   */
  maxMessageSize?: number;
  /**
   * Set to false when nobody reads the messages' correlation ids: they come
   * back as null and are not copied out (a proxy's reader, whose replies
   * carry the random id a daemon makes for every call).
   *
   * @default {true}
   */
  correlationIds?: boolean;
}

/** The fields of a message to encode. */
export interface OutgoingMessage {
  /** The message type. */
  type: number;
  /** The serializer id. */
  serializerId: number;
  /** Flags; COMPRESSED is decided by the encoder and CORR_ID by the correlation id. */
  flags?: number;
  /** The sequence number. */
  seq?: number;
  /** A 16-byte correlation id, or null for none. */
  correlationId?: Uint8Array | null;
  /** Annotation chunks by 4-letter id. */
  annotations?: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>> | null;
  /**
   * The payload: one byte array, or its parts in order (a serializer's
   * `dumpsParts`), which {@linkcode encodeMessageParts} passes on without
   * joining them.
   */
  payload: Uint8Array | readonly Uint8Array[];
}

function annotationEntries(
  a: OutgoingMessage["annotations"],
): [string, Uint8Array][] {
  if (!a) return [];
  if (a instanceof Map) return [...a];
  return Object.entries(a as Record<string, Uint8Array>);
}

/**
 * Encodes a message into one byte array (header, annotations, payload),
 * ready for a single write.
 *
 * @param msg The message fields.
 * @param options Compression and size limit.
 * @returns The wire bytes.
 * @throws {ProtocolError} On a bad annotation id.
 * @throws {MessageTooLargeError} When the message exceeds the maximum size.
 *
 * @example Encode a ping
 * ```ts
 * import { decodeMessage, encodeMessage, MessageType } from "@tyro/tyro/protocol";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeMessage({
 *   type: MessageType.PING,
 *   serializerId: 42,
 *   payload: new TextEncoder().encode("ping"),
 * });
 * assert.equal(bytes.length, 44);
 * assert.equal(decodeMessage(bytes).type, MessageType.PING);
 * ```
 */
export function encodeMessage(msg: OutgoingMessage, options: EncodeOptions = {}): Uint8Array {
  return encode(msg, options, false) as Uint8Array;
}

/**
 * Encodes a message as the parts to write: one array for a small message,
 * and for a large payload (over 64 KiB) the header with the annotations
 * followed by the payload itself, so that the payload is not copied.
 *
 * @param msg The message fields.
 * @param options Compression and size limit.
 * @returns The byte arrays to write, in order.
 * @throws {ProtocolError} On a bad annotation id.
 * @throws {MessageTooLargeError} When the message exceeds the maximum size.
 */
export function encodeMessageParts(
  msg: OutgoingMessage,
  options: EncodeOptions = {},
): Uint8Array[] {
  const r = encode(msg, options, true);
  return Array.isArray(r) ? r : [r];
}

/**
 * Like {@linkcode encodeMessageParts}, but a message that is one byte array
 * comes back as that array (no list around it).
 *
 * @param msg The message fields.
 * @param options Compression and size limit.
 * @returns The bytes, or the parts to write in order.
 * @internal
 */
export function encodeMessageForWrite(
  msg: OutgoingMessage,
  options: EncodeOptions = {},
): Uint8Array | Uint8Array[] {
  return encode(msg, options, true);
}

/** Payloads this large are written as a part of their own. */
const SEPARATE_PAYLOAD = 64 * 1024;

function encode(
  msg: OutgoingMessage,
  options: EncodeOptions,
  parts: boolean,
): Uint8Array | Uint8Array[] {
  let payload: Uint8Array;
  let payloadParts: readonly Uint8Array[] | null = null;
  if (msg.payload instanceof Uint8Array) payload = msg.payload;
  else if (parts && !options.compress) {
    payloadParts = msg.payload;
    payload = EMPTY;
  } else payload = joinParts(msg.payload);
  let flags = (msg.flags ?? 0) & ~(Flags.COMPRESSED | Flags.CORR_ID);
  if (options.compress && payload.length > COMPRESSION_THRESHOLD) {
    payload = deflateSync(payload, { level: 4 });
    flags |= Flags.COMPRESSED;
  }
  const a = msg.annotations;
  const annotations = !a || (a instanceof Map && a.size === 0)
    ? NO_ANNOTATIONS
    : annotationEntries(a);
  let annotationsSize = 0;
  for (let i = 0; i < annotations.length; i++) {
    const [id, data] = annotations[i];
    if (!ANNOTATION_ID.test(id)) {
      throw new ProtocolError("annotation identifier must be 4 ascii characters");
    }
    annotationsSize += 8 + data.length;
  }
  let len = payload.length;
  if (payloadParts) { for (let i = 0; i < payloadParts.length; i++) len += payloadParts[i].length; }
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (len + annotationsSize > max) {
    throw new MessageTooLargeError(
      `message too large (${len + annotationsSize}, max=${max})`,
    );
  }
  const corr = msg.correlationId;
  if (corr && corr.length !== 16) throw new ProtocolError("correlation id must be 16 bytes");
  if (corr) flags |= Flags.CORR_ID;
  const separate = parts && (payloadParts !== null || payload.length > SEPARATE_PAYLOAD);
  const total = HEADER_SIZE + annotationsSize + (separate ? 0 : payload.length);
  const out = allocate(total);
  const seq = (msg.seq ?? 0) & 0xffff;
  const ann = annotationsSize;
  out[0] = 0x50, out[1] = 0x59, out[2] = 0x52, out[3] = 0x4f; // PYRO
  out[4] = PROTOCOL_VERSION >> 8, out[5] = PROTOCOL_VERSION & 0xff;
  out[6] = msg.type;
  out[7] = msg.serializerId;
  out[8] = flags >> 8, out[9] = flags & 0xff;
  out[10] = seq >> 8, out[11] = seq & 0xff;
  out[12] = len >>> 24, out[13] = (len >> 16) & 0xff, out[14] = (len >> 8) & 0xff;
  out[15] = len & 0xff;
  out[16] = ann >>> 24, out[17] = (ann >> 16) & 0xff, out[18] = (ann >> 8) & 0xff;
  out[19] = ann & 0xff;
  if (corr === RANDOM_CORRELATION_ID) {
    const at = nextUuid();
    for (let i = 0; i < 16; i++) out[20 + i] = uuidPool[at + i];
  } else if (corr) out.set(corr, 20);
  else out.fill(0, 20, 36);
  out[36] = 0, out[37] = 0, out[38] = MAGIC >> 8, out[39] = MAGIC & 0xff;
  let pos = HEADER_SIZE;
  for (let i = 0; i < annotations.length; i++) {
    const [id, data] = annotations[i];
    for (let k = 0; k < 4; k++) out[pos + k] = id.charCodeAt(k);
    const n = data.length;
    out[pos + 4] = n >>> 24, out[pos + 5] = (n >> 16) & 0xff, out[pos + 6] = (n >> 8) & 0xff;
    out[pos + 7] = n & 0xff;
    out.set(data, pos + 8);
    pos += 8 + n;
  }
  if (payloadParts) return [out, ...payloadParts];
  if (separate) return [out, payload];
  out.set(payload, pos);
  return out;
}

const EMPTY = new Uint8Array(0);

/** The annotations of every message that has none: one shared map that refuses changes. */
class NoAnnotations extends Map<string, Uint8Array> {
  override set(): this {
    throw new TypeError("a received message without annotations has a read-only annotations map");
  }
  override delete(): boolean {
    return false;
  }
  override clear(): void {}
}
const NO_ANNOTATIONS_READ: Map<string, Uint8Array> = new NoAnnotations();

/**
 * Joins byte arrays into one.
 *
 * @param parts The arrays, in order.
 * @returns One array (the only part itself when there is one).
 * @internal
 */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (let i = 0; i < parts.length; i++) n += parts[i].length;
  const out = allocate(n);
  let o = 0;
  for (let i = 0; i < parts.length; i++) out.set(parts[i], o), o += parts[i].length;
  return out;
}

const NO_ANNOTATIONS: [string, Uint8Array][] = [];
const ANNOTATION_ID = /^[\x20-\x7e]{4}$/;
/**
 * Copies `length` bytes at `from` out of a buffer that will be reused (a
 * transport's read buffer), into slab memory; short ranges are copied
 * without making a view of them.
 *
 * @param bytes The buffer.
 * @param from Where the range starts.
 * @param length Its length.
 * @returns A copy.
 * @internal
 */
export function copyRange(bytes: Uint8Array, from: number, length: number): Uint8Array {
  const out = allocate(length);
  if (length > 64) out.set(bytes.subarray(from, from + length));
  else for (let i = 0; i < length; i++) out[i] = bytes[from + i];
  return out;
}

/**
 * Checks and decodes the 40-byte header.
 *
 * @param bytes At least 40 bytes, starting with the header.
 * @param options The size limit.
 * @returns The header fields.
 * @throws {ProtocolError} On a wrong tag, version or magic number.
 * @throws {MessageTooLargeError} When the declared size exceeds the maximum.
 */
export function decodeHeader(bytes: Uint8Array, options: DecodeOptions = {}): MessageHeader {
  if (bytes.length < HEADER_SIZE) {
    throw new ProtocolError(
      `Cannot decode message header: need ${HEADER_SIZE} bytes, got ${bytes.length}`,
    );
  }
  return headerAt(bytes, 0, options);
}

/**
 * {@linkcode decodeHeader} of the 40 bytes at `at`, without making a view
 * of them (the reader's path for every message).
 *
 * @param bytes A buffer holding a whole header at `at`.
 * @param at Where the header starts.
 * @param options The size limit.
 * @returns The header fields.
 * @internal
 */
export function headerAt(bytes: Uint8Array, at: number, options: DecodeOptions): MessageHeader {
  prefixAt(bytes, at, HEADER_SIZE);
  const dataSize = ((bytes[at + 12] << 24) >>> 0) + (bytes[at + 13] << 16) +
    (bytes[at + 14] << 8) + bytes[at + 15];
  const annotationsSize = ((bytes[at + 16] << 24) >>> 0) + (bytes[at + 17] << 16) +
    (bytes[at + 18] << 8) + bytes[at + 19];
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (dataSize + annotationsSize > max) {
    throw new MessageTooLargeError(`message too large (${dataSize + annotationsSize}, max=${max})`);
  }
  const correlationId = options.correlationIds === false ? null : correlationAt(bytes, at);
  return {
    type: bytes[at + 6],
    serializerId: bytes[at + 7],
    flags: (bytes[at + 8] << 8) | bytes[at + 9],
    seq: (bytes[at + 10] << 8) | bytes[at + 11],
    dataSize,
    annotationsSize,
    correlationId,
  };
}

/**
 * The everyday message read in one piece: a whole message of fewer than
 * `maxBody` body bytes at `at`, without annotations or compression, decoded
 * with its payload copied out of `bytes` and no header object in between.
 * Anything else is left to {@linkcode headerAt} and {@linkcode decodeBody}.
 *
 * @param bytes A buffer that will be reused (the payload is copied).
 * @param at Where the message starts.
 * @param end Where the bytes present end.
 * @param maxBody Bodies this large or larger are not for this path.
 * @param options The size limit, and whether correlation ids are read.
 * @returns The message, or null when it is not such a message.
 * @throws {ProtocolError} On a wrong tag, version or magic number.
 * @internal
 */
export function plainMessageAt(
  bytes: Uint8Array,
  at: number,
  end: number,
  maxBody: number,
  options: DecodeOptions,
): Message | null {
  if (end - at < HEADER_SIZE) return null;
  const flags = (bytes[at + 8] << 8) | bytes[at + 9];
  if (
    bytes[at + 16] !== 0 || bytes[at + 17] !== 0 || bytes[at + 18] !== 0 || bytes[at + 19] !== 0 ||
    bytes[at + 12] !== 0 || (flags & Flags.COMPRESSED) !== 0
  ) return null;
  prefixAt(bytes, at, HEADER_SIZE);
  const dataSize = (bytes[at + 13] << 16) + (bytes[at + 14] << 8) + bytes[at + 15];
  if (dataSize >= maxBody || end - at - HEADER_SIZE < dataSize) return null;
  const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (dataSize > max) {
    throw new MessageTooLargeError(`message too large (${dataSize}, max=${max})`);
  }
  const correlationId = options.correlationIds === false ? null : correlationAt(bytes, at);
  return {
    type: bytes[at + 6],
    serializerId: bytes[at + 7],
    flags,
    seq: (bytes[at + 10] << 8) | bytes[at + 11],
    correlationId,
    annotations: NO_ANNOTATIONS_READ,
    payload: copyRange(bytes, at + HEADER_SIZE, dataSize),
  };
}

/** A copy of the correlation id in the header at `at`, or null when it is all zeros. */
function correlationAt(bytes: Uint8Array, at: number): Uint8Array | null {
  for (let i = at + 20; i < at + 36; i++) {
    if (bytes[i] !== 0) return copyRange(bytes, at + 20, 16);
  }
  return null;
}

/**
 * Checks the parts of a header that are already there (tag, version,
 * magic), so that garbage is refused as early as possible.
 *
 * @param bytes The start of a message.
 * @param length How many bytes of it are present.
 * @throws {ProtocolError} When what is present cannot start a Pyro message.
 */
export function checkPrefix(bytes: Uint8Array, length: number): void {
  prefixAt(bytes, 0, length);
}

const TAG = [0x50, 0x59, 0x52, 0x4f];

function prefixAt(bytes: Uint8Array, at: number, length: number): void {
  for (let i = 0; i < 4 && i < length; i++) {
    if (bytes[at + i] !== TAG[i]) {
      throw new ProtocolError(
        `Cannot decode message header: tag is not PYRO (byte ${i} is 0x${
          bytes[at + i].toString(16).padStart(2, "0")
        })`,
      );
    }
  }
  if (length >= 6) {
    const version = (bytes[at + 4] << 8) | bytes[at + 5];
    if (version !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        `Cannot decode message header: invalid protocol version: ${version}`,
      );
    }
  }
  if (length >= HEADER_SIZE) {
    const magic = (bytes[at + 38] << 8) | bytes[at + 39];
    if (magic !== MAGIC) {
      throw new ProtocolError(
        `Cannot decode message header: magic number is 0x${magic.toString(16).padStart(4, "0")}`,
      );
    }
  }
}

/**
 * Builds a message from its header and its body (annotations + payload,
 * exactly `annotationsSize + dataSize` bytes), inflating a compressed payload.
 *
 * @param header The decoded header.
 * @param body The bytes after the header. Kept by reference: pass a copy if the buffer is reused.
 * @param options The size limit for the inflated payload.
 * @returns The message.
 * @throws {ProtocolError} On malformed annotations or a corrupt compressed payload.
 */
export function decodeBody(
  header: MessageHeader,
  body: Uint8Array,
  options: DecodeOptions = {},
): Message {
  if (body.length !== header.annotationsSize + header.dataSize) {
    throw new ProtocolError(
      `Cannot decode message: body is ${body.length} bytes, header says ${
        header.annotationsSize + header.dataSize
      }`,
    );
  }
  const annEnd = header.annotationsSize;
  const annotations = annEnd === 0 ? NO_ANNOTATIONS_READ : new Map<string, Uint8Array>();
  let pos = 0;
  while (pos < annEnd) {
    if (annEnd - pos < 8) {
      throw new ProtocolError(`Cannot decode annotations: chunk header cut at offset ${pos}`);
    }
    const id = String.fromCharCode(body[pos], body[pos + 1], body[pos + 2], body[pos + 3]);
    const len = ((body[pos + 4] << 24) >>> 0) + (body[pos + 5] << 16) + (body[pos + 6] << 8) +
      body[pos + 7];
    pos += 8;
    if (len > annEnd - pos) {
      throw new ProtocolError(
        `Cannot decode annotations: chunk ${
          JSON.stringify(id)
        } of ${len} bytes overruns the annotations`,
      );
    }
    annotations.set(id, body.subarray(pos, pos + len));
    pos += len;
  }
  let payload = annEnd === 0 ? body : body.subarray(annEnd);
  let flags = header.flags;
  if (flags & Flags.COMPRESSED) {
    const max = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    try {
      const inflated = inflateSync(payload, { maxOutputLength: Math.max(1, max) });
      payload = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
    } catch (e) {
      if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new MessageTooLargeError(`message too large after decompression (max=${max})`);
      }
      throw new ProtocolError(`Cannot decompress payload: ${(e as Error).message}`, { cause: e });
    }
    flags &= ~Flags.COMPRESSED;
  }
  return {
    type: header.type,
    serializerId: header.serializerId,
    flags,
    seq: header.seq,
    correlationId: header.correlationId,
    annotations,
    payload,
  };
}

/**
 * Decodes one whole message held in a byte array.
 *
 * @param bytes Exactly one message.
 * @param options The size limit.
 * @returns The message; its annotations and payload may view `bytes`.
 * @throws {ProtocolError} When the bytes are not exactly one valid message.
 */
export function decodeMessage(bytes: Uint8Array, options: DecodeOptions = {}): Message {
  const header = decodeHeader(bytes, options);
  const total = HEADER_SIZE + header.annotationsSize + header.dataSize;
  if (bytes.length !== total) {
    throw new ProtocolError(
      `Cannot decode message: ${bytes.length} bytes given, header says ${total}`,
    );
  }
  return decodeBody(header, bytes.subarray(HEADER_SIZE), options);
}

/**
 * Formats a 16-byte correlation id as a uuid string.
 *
 * @param bytes 16 bytes.
 * @returns E.g. `5eed0000-0000-4000-8000-000000000001`.
 */
export function uuidFromBytes(bytes: Uint8Array): string {
  let h = "";
  for (let i = 0; i < 16; i++) {
    h += bytes[i].toString(16).padStart(2, "0");
    if (i === 3 || i === 5 || i === 7 || i === 9) h += "-";
  }
  return h;
}

/**
 * Parses a uuid string into 16 bytes.
 *
 * @param uuid A uuid with or without dashes.
 * @returns 16 bytes.
 * @throws {TypeError} When the text is not a uuid.
 */
export function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`Cannot parse uuid: ${uuid}`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

let uuidPool = new Uint8Array(0);
let uuidPoolPos = 0;

/**
 * Makes a random (version 4) uuid as 16 bytes.
 *
 * @returns 16 random bytes with the uuid4 version and variant bits.
 */
export function randomUuidBytes(): Uint8Array {
  // views into a random pool that is never refilled: a uuid someone keeps is never overwritten
  const at = nextUuid();
  return uuidPool.subarray(at, at + 16);
}

/**
 * As an outgoing message's correlation id: a new random uuid, written
 * straight into the header (no array is made for it).
 *
 * @internal
 */
export const RANDOM_CORRELATION_ID: Uint8Array = new Uint8Array(16);

/** Where the next uuid starts in the pool, its version and variant bits set. */
function nextUuid(): number {
  // one getRandomValues per 256 uuids: it costs a few µs a call on Node.js
  if (uuidPoolPos === uuidPool.length) {
    uuidPool = crypto.getRandomValues(new Uint8Array(4096));
    uuidPoolPos = 0;
  }
  const at = uuidPoolPos;
  uuidPoolPos += 16;
  uuidPool[at + 6] = (uuidPool[at + 6] & 0x0f) | 0x40;
  uuidPool[at + 8] = (uuidPool[at + 8] & 0x3f) | 0x80;
  return at;
}
