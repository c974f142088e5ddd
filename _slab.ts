/**
 * Small byte regions cut from shared 64 KiB slabs: a new small Uint8Array
 * (its own zero-filled ArrayBuffer) costs more than encoding a small call.
 * Used for encoded messages, copies out of read buffers and short UTF-8
 * texts. A region is never handed out twice. Also: large buffers lent and
 * given back ({@linkcode lendPart}, {@linkcode lendBody}).
 *
 * @internal
 * @module
 */

import { unrefTimer } from "./_timers.ts";

const SLAB_SIZE = 64 * 1024;
/** Larger requests get an array of their own. */
export const SLAB_MAX = 4 * 1024;
let slab = new Uint8Array(0);
let slabPos = 0;

/**
 * Hands out zeroed memory: from the current slab up to {@linkcode SLAB_MAX}
 * bytes, else a new array.
 *
 * @param size The number of bytes.
 * @returns Zeroed bytes that nothing else will ever be handed.
 */
export function allocate(size: number): Uint8Array {
  if (size > SLAB_MAX) return new Uint8Array(size);
  if (slabPos + size > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabPos = 0;
  }
  // a view made directly is cheaper than subarray()
  const out = new Uint8Array(slab.buffer, slabPos, size);
  slabPos += size;
  return out;
}

/**
 * Keeps only the start of the region {@linkcode allocate} handed out last,
 * and gives the rest back to the slab (for a size known only once written).
 *
 * @param region The last region allocated.
 * @param used How many of its bytes to keep.
 * @returns The kept bytes.
 */
export function trimLast(region: Uint8Array, used: number): Uint8Array {
  if (region.buffer === slab.buffer && region.byteOffset + region.length === slabPos) {
    slabPos -= region.length - used;
  }
  return region.subarray(0, used);
}

/**
 * Large buffers lent and given back, so that the next large message finds
 * memory that was used before: new memory costs a page fault per 4 KiB on
 * first touch (measured, 13 MB: encodeInto into new memory 2.9 ms, into
 * memory used before 0.9 ms). Two kinds of loan, never mixed up:
 * - a part that a serializer makes for a message (serpent's base64 texts),
 *   given back by the write loop once written ({@linkcode lendPart});
 * - a received message's body, given back by the daemon or proxy when the
 *   decoded values hold no view of it ({@linkcode lendBody}).
 * A reader also has a buffer made ahead for the next large body
 * ({@linkcode prepareLoan}), which its next read usually takes as a landing
 * ({@linkcode takeLanding}). Up to {@linkcode KEPT_MAX} buffers are kept,
 * and let go after a second or two in which none was lent.
 */
const KEPT_MAX = 4;
/** Smaller buffers are not lent: new ones cost little. */
export const LENT_MIN = 128 * 1024;
/** Buffers out on loan (one never given back is simply collected). */
const lentParts = new WeakSet<ArrayBuffer>();
const lentBodies = new WeakSet<ArrayBuffer>();
let kept: ArrayBuffer[] = [];
let usedSinceSweep = false;
let sweeping: ReturnType<typeof setTimeout> | undefined;

/** The smallest kept buffer that fits `size` (up to twice as large), or -1. */
function fitting(size: number): number {
  let best = -1;
  for (let i = 0; i < kept.length; i++) {
    const n = kept[i].byteLength;
    if (n >= size && n <= 2 * size && (best < 0 || n < kept[best].byteLength)) best = i;
  }
  return best;
}

/** Exactly `size` bytes, from a kept buffer when one fits, lent on the loan list `loans`. */
function lend(size: number, loans: WeakSet<ArrayBuffer>): Uint8Array {
  if (size < LENT_MIN) return new Uint8Array(size);
  const buffer = takeKept(fitting(size), size);
  loans.add(buffer);
  return new Uint8Array(buffer, 0, size);
}

/** Takes the kept buffer at index `best` out of the kept ones, or makes one of `bytes` when `best` is -1. */
function takeKept(best: number, bytes: number): ArrayBuffer {
  if (best < 0) return new ArrayBuffer(bytes);
  const buffer = kept[best];
  kept.splice(best, 1);
  usedSinceSweep = true;
  return buffer;
}

/** Takes a buffer back when it is on the loan list `loans`. */
function giveBack(view: Uint8Array, loans: WeakSet<ArrayBuffer>): void {
  const buffer = view.buffer as ArrayBuffer;
  if (loans.delete(buffer)) keep(buffer);
}

/**
 * Makes sure a buffer for a body of about `size` bytes is kept, allocating
 * it now: called while waiting for the peer (after a write), so that a large
 * reply does not wait for new zero-filled memory. Measured with Tyro's 1 MB
 * msgpack echo on loopback: about 2.9 → 4.0 GB/s.
 *
 * @param size The size of the last large body received.
 */
export function prepareLoan(size: number): void {
  if (size < LENT_MIN || fitting(size) >= 0) return;
  keep(new ArrayBuffer(withSlack(size)));
}

const PREPARED_SLACK = 64 * 1024;

/** `size` rounded up past the next multiple of 64 KiB, so that a somewhat larger message fits too. */
function withSlack(size: number): number {
  return size + PREPARED_SLACK - size % PREPARED_SLACK;
}

/**
 * Landings: buffers that a read loop reads the next chunk of a stream into,
 * instead of its own read buffer, when a large message like the last one is
 * expected; that message's body then stays where it lands (no copy out of a
 * read buffer, and one read can take all of it). A landing is taken from the
 * kept buffers ({@linkcode prepareLoan} makes one after each write) and held
 * by a pending read for as long as the peer is silent, so landings are only
 * for messages up to {@linkcode LANDING_MAX} and their bytes out at once are
 * bounded by {@linkcode LANDINGS_BYTES_MAX}.
 */
const LANDING_MAX = 2 * 1024 * 1024;
const LANDINGS_BYTES_MAX = 8 * 1024 * 1024;
let landingBytes = 0;

/**
 * Takes a buffer of at least `size` bytes to read the next chunk of a stream
 * into (a kept one when one fits, else a new one), for a read loop expecting
 * a large message. End it with {@linkcode landed} whatever the read gave.
 *
 * @param size The least size: the expected message, header included.
 * @returns The buffer, or null when the message is too large for a landing or
 * the landings out already hold their share of memory.
 */
export function takeLanding(size: number): Uint8Array | null {
  if (size > LANDING_MAX) return null;
  const best = fitting(size);
  const bytes = best < 0 ? withSlack(size) : kept[best].byteLength;
  if (landingBytes + bytes > LANDINGS_BYTES_MAX) return null;
  landingBytes += bytes;
  return new Uint8Array(takeKept(best, bytes));
}

/**
 * Ends a landing: a body that stays in it makes it a lent body (given back
 * like any, see {@linkcode giveBackBody}); else it is kept again.
 *
 * @param landing The buffer {@linkcode takeLanding} gave.
 * @param asBody Whether a message body now lives in it.
 */
export function landed(landing: Uint8Array, asBody: boolean): void {
  const buffer = landing.buffer as ArrayBuffer;
  landingBytes -= buffer.byteLength;
  if (asBody) lentBodies.add(buffer);
  else keep(buffer);
}

function keep(buffer: ArrayBuffer): void {
  if (kept.length >= KEPT_MAX) kept.shift();
  kept.push(buffer);
  usedSinceSweep = true;
  if (sweeping === undefined) {
    sweeping = setTimeout(sweepKept, 1000);
    unrefTimer(sweeping);
  }
}

function sweepKept(): void {
  sweeping = undefined;
  if (!usedSinceSweep) {
    kept = [];
    return;
  }
  usedSinceSweep = false;
  sweeping = setTimeout(sweepKept, 1000);
  unrefTimer(sweeping);
}

/**
 * Lends `size` bytes for a message part that is written in full and then
 * given back with {@linkcode giveBackPart}. Not zeroed: what the buffer held
 * before may still be in it. Sizes under {@linkcode LENT_MIN} get a new array.
 *
 * @param size The number of bytes.
 * @returns Exactly `size` bytes.
 */
export function lendPart(size: number): Uint8Array {
  return lend(size, lentParts);
}

/**
 * Gives back a part that {@linkcode lendPart} lent, once it is written;
 * anything else (a body, the caller's own bytes) is left alone.
 *
 * @param part The part.
 */
export function giveBackPart(part: Uint8Array): void {
  giveBack(part, lentParts);
}

/**
 * Lends `size` bytes for a message body, to be filled in full before use
 * and given back with {@linkcode giveBackBody} when nothing holds a view of
 * it. Not zeroed. Sizes under {@linkcode LENT_MIN} get a new array.
 *
 * @param size The number of bytes.
 * @returns Exactly `size` bytes.
 */
export function lendBody(size: number): Uint8Array {
  return lend(size, lentBodies);
}

/**
 * Gives back the body of a message whose decoded values hold no view of it
 * (see `Serializer.loadsCopies`) and whose annotations (views of it too) are
 * empty; anything else is left alone.
 *
 * @param payload The message's payload (the whole body, as it has no annotations).
 */
export function giveBackBody(payload: Uint8Array): void {
  giveBack(payload, lentBodies);
}

/**
 * Gives back a decoded message's large body when nothing decoded from it
 * holds a view of it: its serializer copies (`Serializer.loadsCopies`) and
 * it has no annotations (views of the body too). Called by the proxy and the
 * daemon once they have decoded a message.
 *
 * @param msg The message.
 * @param loadsCopies Whether its serializer's decode copies.
 */
export function giveBackDecoded(
  msg: { payload: Uint8Array; annotations: { size: number } },
  loadsCopies: boolean | undefined,
): void {
  if (msg.payload.length >= LENT_MIN && loadsCopies && msg.annotations.size === 0) {
    giveBackBody(msg.payload);
  }
}
