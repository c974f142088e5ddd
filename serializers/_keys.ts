/**
 * Dict keys made from payload bytes, through a small cache: a key read
 * again (`"object"`, `"method"` and the like in every call) comes back as the
 * same internalized string, which a property store takes at once, where a
 * new string would first be looked up in V8's string table.
 *
 * @module
 * @internal
 */

/** Keys longer than this are not cached. */
export const KEY_MAX = 24;
const SLOTS = 512;
const cache: string[] = new Array<string>(SLOTS).fill("");
const fromCharCode = String.fromCharCode;

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
