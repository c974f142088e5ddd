/**
 * Strings and numbers read straight from ASCII payload bytes, shared by
 * the decoders' fast paths.
 *
 * Dict keys go through a small cache: a key read again (`"object"`,
 * `"method"` and the like in every call) comes back as the same
 * internalized string, which a property store takes at once, where a new
 * string would first be looked up in V8's string table.
 *
 * @module
 * @internal
 */

/** Longer texts are decoded by a TextDecoder. */
const SHORT_TEXT = 32;
const utf8 = new TextDecoder();
const fromCharCode = String.fromCharCode;

/** 10^k for k ≤ 15, all exact doubles. */
export const POW10: readonly number[] = [
  1,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
];

/**
 * The str of `b[start..end)`, which must be ASCII: short ones made by
 * hand, four characters at a time (cheaper than a TextDecoder call).
 *
 * @param b The payload.
 * @param start Where the text starts.
 * @param end Where it ends.
 * @returns The text.
 */
export function asciiText(b: Uint8Array, start: number, end: number): string {
  if (end - start >= SHORT_TEXT) return utf8.decode(b.subarray(start, end));
  let s = "";
  let k = start;
  for (; k + 4 <= end; k += 4) s += fromCharCode(b[k], b[k + 1], b[k + 2], b[k + 3]);
  for (; k < end; k++) s += fromCharCode(b[k]);
  return s;
}

/** A position in a payload's bytes: what the decoders' fast paths share. */
export class ByteCursor {
  b: Uint8Array;
  n: number;
  pos: number;

  constructor(b: Uint8Array, pos: number) {
    this.b = b;
    this.n = b.length;
    this.pos = pos;
  }

  /** The byte at `i`, or -1 past the end. */
  at(i: number): number {
    return i < this.n ? this.b[i] : -1;
  }

  /**
   * Whether a word of `length` bytes (4 or 5) whose first four bytes,
   * little-endian, are `first4` comes next (the fifth is the caller's to
   * check); steps over it if so.
   */
  word(first4: number, length: number): boolean {
    const i = this.pos;
    if (i + length > this.n) return false;
    const b = this.b;
    if ((b[i] | b[i + 1] << 8 | b[i + 2] << 16 | b[i + 3] << 24) !== first4) return false;
    this.pos = i + length;
    return true;
  }
}

/** The value {@linkcode scanDecimal} read last. */
export let decimalValue = 0;
/** Whether the number {@linkcode scanDecimal} read last had a fraction. */
export let decimalIsFloat = false;

/**
 * Reads `digits[.digits]` at `i`: at most 15 digits in all, no leading zero
 * before another digit, at least one digit after a dot. The value (in
 * {@linkcode decimalValue}) is exact: the digits and the power of ten are
 * exact doubles, so one division rounds correctly, as `Number(text)` does.
 *
 * @param b The payload.
 * @param i Where the first digit is.
 * @param n Where the payload ends.
 * @returns Where the number ends, or -1 when it is not of that form.
 */
export function scanDecimal(b: Uint8Array, i: number, n: number): number {
  let c = i < n ? b[i] : -1;
  if (c < 0x30 || c > 0x39) return -1;
  if (c === 0x30 && i + 1 < n && b[i + 1] >= 0x30 && b[i + 1] <= 0x39) return -1;
  let value = 0;
  let digits = 0;
  while (c >= 0x30 && c <= 0x39) {
    value = value * 10 + (c - 0x30);
    digits++;
    c = ++i < n ? b[i] : -1;
  }
  const isFloat = c === 0x2e; // .
  if (isFloat) {
    const from = ++i;
    c = i < n ? b[i] : -1;
    while (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      c = ++i < n ? b[i] : -1;
    }
    const fraction = i - from;
    digits += fraction;
    if (fraction === 0 || digits > 15) return -1;
    value /= POW10[fraction];
  }
  if (digits > 15) return -1;
  decimalValue = value;
  decimalIsFloat = isFloat;
  return i;
}

/**
 * The str of the UTF-8 bytes `b[start..end)`, for the decoders' fast
 * paths: ASCII made by hand (a dict `key` through the cache), anything else
 * by a TextDecoder.
 *
 * @param b The payload.
 * @param start Where the text starts.
 * @param end Where it ends.
 * @param high The bitwise OR of its bytes (0x80 set: not ASCII).
 * @param key Whether it is a dict key.
 * @returns The text, or null for invalid UTF-8 and for a U+FFFD in the
 * text (which the general paths tell apart).
 */
export function utf8Text(
  b: Uint8Array,
  start: number,
  end: number,
  high: number,
  key: boolean,
): string | null {
  if (high < 0x80) {
    return key && end - start <= KEY_MAX ? asciiKey(b, start, end) : asciiText(b, start, end);
  }
  const s = utf8Lenient.decode(b.subarray(start, end));
  return s.includes("\uFFFD") ? null : s;
}

const utf8Lenient = new TextDecoder("utf-8", { ignoreBOM: true });

/** Keys longer than this are not cached. */
export const KEY_MAX = 24;
const SLOTS = 512;
const cache: string[] = new Array<string>(SLOTS).fill("");

/**
 * The str of `b[start..end)`, which must be ASCII and at most
 * {@linkcode KEY_MAX} bytes long.
 *
 * @param b The payload.
 * @param start Where the key starts.
 * @param end Where it ends.
 * @returns The key.
 */
export function asciiKey(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  let h = len;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + b[i]) | 0;
  const slot = (h ^ (h >>> 9)) & (SLOTS - 1);
  const k = cache[slot];
  if (k.length === len) {
    let i = 0;
    while (i < len && k.charCodeAt(i) === b[start + i]) i++;
    if (i === len) return k;
  }
  let s = "";
  for (let i = start; i < end; i++) s += fromCharCode(b[i]);
  // the string a property key is stored as: internalized
  const o: Record<string, number> = {};
  o[s] = 0;
  s = Object.keys(o)[0];
  cache[slot] = s;
  return s;
}
