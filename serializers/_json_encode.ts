/**
 * The JSON writer behind {@linkcode createJsonSerializer}: writes what
 * Python's `json.dumps(value, ensure_ascii=False, default=...)` writes
 * for the same value in Pyro5's JsonSerializer, byte for byte for plain
 * data: separators `", "` and `": "`, floats as Python's `repr`, the bare
 * `NaN`/`Infinity`/`-Infinity` tokens, ints of any length as digits.
 *
 * @module
 */

import { SerializeError } from "../errors.ts";
import type { ClassRegistry } from "./registry.ts";
import { ByteWriter } from "./_byte_writer.ts";
import { Complex, PyFloat } from "./types.ts";

function fail(why: string): never {
  throw new SerializeError(`Cannot encode json: ${why}`);
}

/** Strings that JSON.stringify would escape (or that might hold a lone surrogate). */
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Quotes a string as JSON (as Python with `ensure_ascii=False` does; a
 * lone surrogate, which Python cannot encode to UTF-8 at all, becomes a
 * `\uXXXX` escape).
 *
 * @param s The string.
 * @returns The JSON string literal.
 */
export function quote(s: string): string {
  return s.length < 64 && !NEEDS_ESCAPE.test(s) ? '"' + s + '"' : JSON.stringify(s);
}

/**
 * Formats a float as Python's `repr` does, with JSON's names for the
 * non-finite values: `2.0`, `1e+16`, `1e-05`, `-0.0`, `NaN`, `-Infinity`.
 *
 * @param x The number.
 * @returns The text.
 */
export function pyFloatRepr(x: number): string {
  if (x !== x) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return 1 / x < 0 ? "-0.0" : "0.0";
  const a = x < 0 ? -x : x;
  if (a >= 1e-4 && a < 1e16) {
    // Same shortest digits as repr, and JS writes no exponent in this range.
    const s = String(x);
    return s.includes(".") ? s : s + ".0";
  }
  const e = x.toExponential(); // shortest digits, e.g. "1.5e+20", "1e-7"
  const i = e.indexOf("e");
  const exp = e.slice(i + 2);
  return e.slice(0, i + 2) + (exp.length < 2 ? "0" + exp : exp);
}

/**
 * A dict key as Python's json writes it: str as is, int as digits, float
 * as repr, `true`/`false`/`null`.
 */
function keyText(k: unknown): string {
  switch (typeof k) {
    case "string":
      return k;
    case "number":
      return Number.isSafeInteger(k) ? String(k) : pyFloatRepr(k);
    case "bigint":
      return k.toString();
    case "boolean":
      return k ? "true" : "false";
    case "undefined":
      return "null";
    case "object":
      if (k === null) return "null";
      if (k instanceof PyFloat) return pyFloatRepr(Number(k.value));
  }
  return fail(`a dict key must be a str, int, float, bool or None, not ${describe(k)}`);
}

function describe(v: unknown): string {
  if (typeof v !== "object" || v === null) return typeof v;
  return (v as { constructor?: { name?: string } }).constructor?.name ?? "object";
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, "0");
}

/**
 * A Date as Python's `datetime.isoformat()` writes an aware UTC datetime:
 * `2024-05-01T12:30:00+00:00`, with `.ffffff` when there are milliseconds.
 */
export function isoDate(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) fail("invalid Date");
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) return d.toISOString();
  const ms = d.getUTCMilliseconds();
  return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}` +
    (ms ? "." + pad(ms, 3) + "000" : "") + "+00:00";
}

/** Bytes this large become a base64 text of their own in `dumpsParts` (as in serpent). */
const LARGE_BYTES = 48 * 1024;
const C_SPACE = 0x20,
  C_DQUOTE = 0x22,
  C_COMMA = 0x2c,
  C_COLON = 0x3a,
  C_LBRACKET = 0x5b,
  C_RBRACKET = 0x5d,
  C_LBRACE = 0x7b,
  C_RBRACE = 0x7d;

/** One encoding run: writes JSON's UTF-8 into a {@linkcode ByteWriter} (`w`). */
export class JsonWriter {
  /** Where the UTF-8 goes (with its parts, when large bytes are parts of their own). */
  readonly w: ByteWriter = new ByteWriter();
  depth = 0;
  readonly registry: ClassRegistry;
  readonly maxDepth: number;

  /**
   * Starts a run.
   *
   * @param registry The class registry for objects that are not plain data.
   * @param maxDepth The nesting limit.
   */
  constructor(registry: ClassRegistry, maxDepth: number) {
    this.registry = registry;
    this.maxDepth = maxDepth;
  }

  /**
   * Appends one value.
   *
   * @param v The value.
   */
  value(v: unknown): void {
    switch (typeof v) {
      case "string":
        this.str(v);
        return;
      case "number":
        if (v >= 0 && v <= 9 && (v | 0) === v && (v !== 0 || 1 / v > 0)) this.w.byte(0x30 + v);
        else {
          this.w.ascii(
            Number.isSafeInteger(v) && (v !== 0 || 1 / v > 0) ? String(v) : pyFloatRepr(v),
          );
        }
        return;
      case "boolean":
        this.w.ascii(v ? "true" : "false");
        return;
      case "undefined":
        this.w.ascii("null");
        return;
      case "bigint":
        this.w.ascii(v.toString());
        return;
      case "object":
        if (v === null) this.w.ascii("null");
        else this.object(v);
        return;
      default:
        fail(`cannot serialize a ${typeof v}`);
    }
  }

  /**
   * Appends a string as {@linkcode quote} writes it.
   *
   * @param s The string.
   */
  str(s: string): void {
    if (s.length >= 64 || !this.w.quoted(s, C_DQUOTE)) this.w.text(quote(s));
  }

  enter(): void {
    if (++this.depth > this.maxDepth) {
      fail(`nesting deeper than ${this.maxDepth} levels (or a cycle)`);
    }
  }

  /**
   * Appends an array (or any iterable of known size) as a JSON array.
   *
   * @param items The items.
   */
  array(items: readonly unknown[]): void {
    this.enter();
    const n = items.length;
    const w = this.w;
    w.byte(C_LBRACKET);
    if (n > 0) {
      this.value(items[0]);
      for (let i = 1; i < n; i++) {
        w.byte(C_COMMA);
        w.byte(C_SPACE);
        this.value(items[i]);
      }
    }
    w.byte(C_RBRACKET);
    this.depth--;
  }

  /**
   * Appends a plain object as a JSON object.
   *
   * @param o The object.
   */
  dict(o: Record<string, unknown>): void {
    this.enter();
    const w = this.w;
    let first = true;
    w.byte(C_LBRACE);
    for (const k of Object.keys(o)) {
      if (first) first = false;
      else w.byte(C_COMMA), w.byte(C_SPACE);
      this.str(k);
      w.byte(C_COLON);
      w.byte(C_SPACE);
      this.value(o[k]);
    }
    w.byte(C_RBRACE);
    this.depth--;
  }

  object(v: object): void {
    if (Array.isArray(v)) {
      this.array(v);
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      this.dict(v as Record<string, unknown>);
    } else if (v instanceof Uint8Array) {
      this.bytes(v);
    } else if (v instanceof Map) {
      this.enter();
      const w = this.w;
      let first = true;
      w.byte(C_LBRACE);
      for (const [k, val] of v) {
        if (first) first = false;
        else w.byte(C_COMMA), w.byte(C_SPACE);
        this.str(keyText(k));
        w.byte(C_COLON);
        w.byte(C_SPACE);
        this.value(val);
      }
      w.byte(C_RBRACE);
      this.depth--;
    } else if (v instanceof Set) {
      this.array([...v]);
    } else if (v instanceof PyFloat) {
      this.w.ascii(pyFloatRepr(Number(v.value)));
    } else if (v instanceof Date) {
      this.w.text('"' + isoDate(v) + '"');
    } else if (v instanceof Complex) {
      fail(
        "Pyro5's json serializer cannot carry complex numbers (use serpent, marshal or msgpack)",
      );
    } else if (v instanceof ArrayBuffer) {
      this.bytes(new Uint8Array(v));
    } else if (ArrayBuffer.isView(v)) {
      this.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else {
      const d = this.registry.toDict(v);
      if (d === null || typeof d !== "object") {
        fail("class-to-dict conversion did not return a dict");
      }
      this.dict(d);
    }
  }

  /**
   * Appends bytes as serpent's bytes dict `{"data": base64, "encoding": "base64"}`.
   *
   * @param b The bytes.
   */
  bytes(b: Uint8Array): void {
    this.w.bytesDict(b, '{"data": "', '", "encoding": "base64"}', LARGE_BYTES);
  }

  /** Hands the writer's buffer on: call once done, also after an error. */
  release(): void {
    this.w.release();
  }
}
