/**
 * Helpers of the HTTP gateway: Python-compatible parsing (query strings,
 * UUIDs, regexes), Python-style JSON, and the raw-reply serializer.
 *
 * @internal
 * @module
 */

import { TimeoutError } from "./errors.ts";
import { serializerFor } from "./serializers/mod.ts";
import type { Serializer } from "./serializers/types.ts";

/** A raw reply payload, carried through the proxy's result path untouched. */
export class RawReply extends Error {
  readonly payload: Uint8Array<ArrayBuffer>;
  constructor(payload: Uint8Array<ArrayBuffer>) {
    super("raw reply");
    this.name = "RawReply";
    this.payload = payload;
  }
}

export interface RawSerializer extends Serializer {
  raw: boolean;
}

/** Wraps a serializer so that, once `raw` is on, results stay as their payload bytes. */
export function rawSerializer(inner: Serializer): RawSerializer {
  return {
    id: inner.id,
    name: inner.name,
    raw: false,
    dumps: (value) => inner.dumps(value),
    dumpsCall: (objectId, method, args, kwargs) => inner.dumpsCall(objectId, method, args, kwargs),
    loadsCall: (data) => inner.loadsCall(data),
    loads(data: Uint8Array): unknown {
      return this.raw ? new RawReply(data.slice()) : inner.loads(data);
    },
  };
}

export const JSON_SERIALIZER = serializerFor("json");

/**
 * Formats a value as Python's `json.dumps` does by default (separators
 * `", "` and `": "`, non-ASCII escaped).
 */
export function pyJsonDumps(value: unknown): string {
  const text = new TextDecoder().decode(JSON_SERIALIZER.dumps(value));
  return text.replace(
    /[\u007f-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}

/**
 * Translates a Python regex into a JS one anchored at the start, as
 * Python's `re.match` is: named groups, `\A`, `\Z` and leading inline
 * flags (`i`, `m`, `s`) are converted.
 *
 * @param source The Python regex.
 * @returns The JS regex.
 * @throws {SyntaxError} When the regex is invalid.
 */
export function pythonRegex(source: string): RegExp {
  let flags = "";
  let body = source;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    body = body.slice(inline[0].length);
    for (const f of inline[1]) if ("ims".includes(f) && !flags.includes(f)) flags += f;
  }
  body = body
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, "(?<$1>")
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, "\\k<$1>")
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, "$1$2^")
    .replace(/(^|[^\\])((?:\\\\)*)\\Z/g, "$1$2$(?![\\s\\S])");
  return new RegExp("^(?:" + body + ")", flags);
}

/** Decodes `%XX` runs as UTF-8 (invalid bytes become U+FFFD), leaving everything else. */
export function unquote(text: string): string {
  if (!text.includes("%")) return text;
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return new TextDecoder().decode(bytes);
  });
}

/** Python's `parse_qs` + the gateway's `singlyfy_parameters`: blank values are dropped. */
export function parseQuery(query: string): Record<string, unknown> {
  const lists = new Map<string, string[]>();
  for (const part of query.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    if (eq < 0 || eq === part.length - 1) continue;
    const name = unquote(part.slice(0, eq).replaceAll("+", " "));
    const value = unquote(part.slice(eq + 1).replaceAll("+", " "));
    const list = lists.get(name);
    if (list) list.push(value);
    else lists.set(name, [value]);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of lists) setOwn(out, k, v.length === 1 ? v[0] : v);
  return out;
}

export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** Python's `uuid.UUID(text)`: the 16 bytes and the canonical text. */
export function parseUuid(text: string): { bytes: Uint8Array; text: string } {
  const hex = text.replaceAll("urn:", "").replaceAll("uuid:", "").replace(/^[{}]+|[{}]+$/g, "")
    .replaceAll("-", "");
  if (hex.length !== 32) throw valueError("badly formed hexadecimal UUID string");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) {
    throw valueError(`invalid literal for int() with base 16: '${hex}'`);
  }
  return uuidOf(Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16)));
}

function uuidOf(bytes: Uint8Array): { bytes: Uint8Array; text: string } {
  const h = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return {
    bytes,
    text: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
  };
}

export function randomUuid(): { bytes: Uint8Array; text: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return uuidOf(bytes);
}

export function valueError(message: string): Error {
  const e = new Error(message);
  e.name = "ValueError";
  return e;
}

export function assertionError(message: string): Error {
  const e = new Error(message);
  e.name = "AssertionError";
  return e;
}

/** Compares two strings in time independent of where they differ. */
export function sameKey(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i];
  return diff === 0;
}

export function withTimeout<T>(p: Promise<T>, seconds: number): Promise<T> {
  if (!(seconds > 0)) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError("receiving: timeout")), seconds * 1000);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Splits a request URL into its raw path and query (no dot-segment normalization). */
export function splitTarget(url: string): { path: string; query: string } {
  const scheme = url.indexOf("://");
  const start = scheme >= 0 ? url.indexOf("/", scheme + 3) : 0;
  if (start < 0) return { path: "/", query: "" };
  let rest = url.slice(start);
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf("?");
  return q >= 0 ? { path: rest.slice(0, q), query: rest.slice(q + 1) } : { path: rest, query: "" };
}
