/**
 * Test support: the golden Pyro5 wire vectors in ../shared/pyro5-vectors,
 * their tagged-JSON values turned into Tyro values, and a comparison that
 * follows the vectors' rules (sets unordered, NaN equals NaN, dicts with
 * non-string keys as sets of pairs).
 *
 * @module
 */

import { Complex, FrozenSet } from "../serializers/types.ts";
import {
  base64Decode,
  bytesFromDict,
  type ClassRegistry,
  DEFAULT_REGISTRY,
  isPlainObject,
  setOwn,
} from "../serializers/registry.ts";
import { PyroUri } from "../uri.ts";

/** Where the vectors live. */
export const VECTORS_DIR = new URL("../../shared/pyro5-vectors/", import.meta.url);

/** One message entry of manifest.json. */
export interface VectorMessage {
  file: string;
  scenario: string;
  serializer: string;
  serializer_id: number;
  connection: number;
  index: number;
  direction: "client->server" | "server->client";
  msg_type: number;
  msg_type_name: string;
  flags: number;
  flag_names: string[];
  seq: number;
  data_size: number;
  annotations_size: number;
  annotations: Record<string, { $bytes: string }>;
  corr_id: string;
  compressed: boolean;
  payload_size: number;
  total_size: number;
  call: string;
  serialized_payload: boolean;
  payload_uncompressed?: { $bytes: string };
  decoded: unknown;
  decoded_repr: string;
}

/** One serpent text entry of manifest.json. */
export interface VectorSerpentText {
  file: string;
  name: string;
  options: Record<string, unknown>;
  input_repr: string;
  input_type: string;
  decoded: unknown;
  decoded_repr: string;
}

/** The parsed manifest. */
export interface Manifest {
  messages: VectorMessage[];
  serpent_text: VectorSerpentText[];
  scenarios: { number: number; scenario: string; serializer: string; files: string[] }[];
}

let manifestCache: Manifest | undefined;

/** Loads manifest.json (once). */
export function manifest(): Manifest {
  manifestCache ??= JSON.parse(
    Deno.readTextFileSync(new URL("manifest.json", VECTORS_DIR)),
  ) as Manifest;
  return manifestCache;
}

/** Reads one vector file's bytes. */
export function vectorBytes(file: string): Uint8Array {
  return Deno.readFileSync(new URL(file, VECTORS_DIR));
}

/** Options for {@linkcode fromTagged}. */
export interface FromTaggedOptions {
  /** Apply the Pyro-level class-dict conversion (default true). */
  classes?: boolean;
  /** Turn `{data, encoding: "base64"}` dicts into bytes (serpent and json; default true). */
  bytesDicts?: boolean;
  /** Map msgpack ext 0x30-0x33 (default true). */
  msgpackExt?: boolean;
  /** Registry for class dicts. */
  registry?: ClassRegistry;
}

/**
 * Turns a tagged-JSON value of the manifest into the value a Tyro decoder
 * must produce.
 */
export function fromTagged(tagged: unknown, options: FromTaggedOptions = {}): unknown {
  const classes = options.classes ?? true;
  const bytesDicts = options.bytesDicts ?? true;
  const msgpackExt = options.msgpackExt ?? true;
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const conv = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(conv);
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0].startsWith("$")) {
      const x = o[keys[0]];
      switch (keys[0]) {
        case "$bytes":
          return base64Decode(x as string);
        case "$tuple":
          return Object.freeze((x as unknown[]).map(conv));
        case "$set":
          return new Set((x as unknown[]).map(conv));
        case "$frozenset":
          return new FrozenSet((x as unknown[]).map(conv));
        case "$bigint": {
          const b = BigInt(x as string);
          return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(b)
            : b;
        }
        case "$float":
          return x === "nan" ? NaN : x === "inf" ? Infinity : x === "-inf" ? -Infinity : -0;
        case "$complex": {
          const [re, im] = (x as unknown[]).map((n) =>
            typeof n === "number" ? n : conv(n)
          ) as number[];
          return new Complex(re, im);
        }
        case "$dict": {
          const pairs = (x as unknown[][]).map(([k, val]) => [conv(k), conv(val)] as const);
          if (pairs.every(([k]) => typeof k === "string")) {
            const obj: Record<string, unknown> = {};
            for (const [k, val] of pairs) setOwn(obj, k as string, val);
            return finishDict(obj);
          }
          return new Map(pairs);
        }
        case "$ext": {
          const { code, data } = x as { code: number; data: string };
          const bytes = base64Decode(data);
          if (!msgpackExt) return { code, data: bytes };
          const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          if (code === 0x30) return new Complex(dv.getFloat64(0, true), dv.getFloat64(8, true));
          if (code === 0x31) return BigInt(new TextDecoder().decode(bytes));
          if (code === 0x32) return new Date(dv.getFloat64(0, true) * 1000);
          return { code, data: bytes };
        }
      }
    }
    const obj: Record<string, unknown> = {};
    for (const k of keys) setOwn(obj, k, conv(o[k]));
    return finishDict(obj);
  };
  const finishDict = (obj: Record<string, unknown>): unknown => {
    if (bytesDicts) {
      const b = bytesFromDict(obj);
      if (b) return b;
    }
    if (classes && Object.hasOwn(obj, "__class__")) return registry.fromDict(obj);
    return obj;
  };
  return conv(tagged);
}

function isNum(x: unknown): x is number | bigint {
  return typeof x === "number" || typeof x === "bigint";
}

/**
 * Compares two Tyro values by the vectors' rules. Returns null when equal,
 * else a path and reason.
 */
export function pyDiff(a: unknown, b: unknown, path = "$"): string | null {
  if (isNum(a) && isNum(b)) {
    if (typeof a === "number" && typeof b === "number") {
      if (Number.isNaN(a) && Number.isNaN(b)) return null;
      return Object.is(a, b) || (a === b && a !== 0) ? null : `${path}: ${a} != ${b}`;
    }
    // deno-lint-ignore eqeqeq
    return a == b ? null : `${path}: ${a} != ${b}`;
  }
  if (typeof a !== typeof b) return `${path}: type ${typeof a} != ${typeof b}`;
  if (a === null || b === null || typeof a !== "object") {
    return a === b ? null : `${path}: ${String(a)} != ${String(b)}`;
  }
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array)) return `${path}: bytes vs non-bytes`;
    if (a.length !== b.length) return `${path}: bytes length ${a.length} != ${b.length}`;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `${path}[${i}]: byte differs`;
    return null;
  }
  if (a instanceof PyroUri || b instanceof PyroUri) {
    return String(a) === String(b) ? null : `${path}: uri ${String(a)} != ${String(b)}`;
  }
  if (a instanceof Complex || b instanceof Complex) {
    if (!(a instanceof Complex && b instanceof Complex)) return `${path}: complex vs other`;
    return pyDiff(a.re, b.re, path + ".re") ?? pyDiff(a.im, b.im, path + ".im");
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
      ? null
      : `${path}: date differs`;
  }
  if (a instanceof Error || b instanceof Error) {
    if (!(a instanceof Error && b instanceof Error)) return `${path}: error vs non-error`;
    if (a.constructor !== b.constructor) return `${path}: error class ${a.name} != ${b.name}`;
    if (a.message !== b.message) return `${path}: error message ${a.message} != ${b.message}`;
    const ra = a as unknown as Record<string, unknown>,
      rb = b as unknown as Record<string, unknown>;
    return pyDiff(ra.remoteType, rb.remoteType, path + ".remoteType") ??
      pyDiff(ra.remoteArgs, rb.remoteArgs, path + ".remoteArgs") ??
      pyDiff(ra.remoteTraceback, rb.remoteTraceback, path + ".remoteTraceback") ??
      pyDiff(ra.remoteAttributes, rb.remoteAttributes, path + ".remoteAttributes");
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b))) return `${path}: array vs non-array`;
    if (a.length !== b.length) return `${path}: length ${a.length} != ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = pyDiff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set)) return `${path}: set vs non-set`;
    if (a.size !== b.size) return `${path}: set size ${a.size} != ${b.size}`;
    const rest = [...b];
    for (const x of a) {
      const i = rest.findIndex((y) => pyDiff(x, y) === null);
      if (i < 0) return `${path}: set member ${String(x)} missing`;
      rest.splice(i, 1);
    }
    return null;
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map)) return `${path}: map vs non-map`;
    if (a.size !== b.size) return `${path}: map size ${a.size} != ${b.size}`;
    const rest = [...b];
    for (const [k, v] of a) {
      const i = rest.findIndex(([k2, v2]) => pyDiff(k, k2) === null && pyDiff(v, v2) === null);
      if (i < 0) return `${path}: map entry ${String(k)} missing or differs`;
      rest.splice(i, 1);
    }
    return null;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return `${path}: keys ${ka} != ${kb}`;
    for (const k of ka) {
      if (!Object.hasOwn(b, k)) return `${path}: key ${k} missing`;
      const d = pyDiff(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: class differs`;
  return pyDiff({ ...a }, { ...b }, path);
}

/** Throws when {@linkcode pyDiff} finds a difference. */
export function assertPyEqual(actual: unknown, expected: unknown, message = ""): void {
  const d = pyDiff(actual, expected);
  if (d) throw new Error(`${message ? message + ": " : ""}values differ at ${d}`);
}

/** The payload of a vector message, inflated when it was sent compressed. */
export function vectorPayload(m: VectorMessage): Uint8Array {
  if (m.compressed) return base64Decode(m.payload_uncompressed!.$bytes);
  const b = vectorBytes(m.file);
  const start = 40 + m.annotations_size;
  return b.subarray(start, start + m.data_size);
}

/** Frames byte strings as `[u32 big-endian length][bytes]...` for a Python process. */
export function frameRecords(records: readonly Uint8Array[]): Uint8Array {
  const total = records.reduce((n, r) => n + 4 + r.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const r of records) {
    dv.setUint32(p, r.length);
    out.set(r, p + 4);
    p += 4 + r.length;
  }
  return out;
}

/** Splits what {@linkcode frameRecords} framed (copies, safe to keep). */
export function unframeRecords(data: Uint8Array): Uint8Array[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array[] = [];
  for (let p = 0; p < data.length;) {
    const n = dv.getUint32(p);
    out.push(data.slice(p + 4, p + 4 + n));
    p += 4 + n;
  }
  return out;
}
