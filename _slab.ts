/**
 * Small byte regions cut from shared 64 KiB slabs: a new small Uint8Array
 * (its own zero-filled ArrayBuffer) costs more than encoding a small call.
 * Used for encoded messages, copies out of read buffers and short UTF-8
 * texts. A region is never handed out twice.
 *
 * @internal
 * @module
 */

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
