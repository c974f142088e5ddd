/**
 * The msgpack extension value type and Pyro5's extension codes.
 *
 * @module
 */

/** Pyro5's ext code for `complex`: two float64, little-endian (real, imag). */
export const EXT_COMPLEX = 0x30;
/** Pyro5's ext code for an int outside int64/uint64: ASCII decimal digits. */
export const EXT_BIGINT = 0x31;
/** Pyro5's ext code for `datetime`: one float64 little-endian, POSIX seconds. */
export const EXT_DATETIME = 0x32;
/** Pyro5's ext code for `date`: one int64 little-endian, the proleptic ordinal (1 = 0001-01-01). */
export const EXT_DATE = 0x33;

/**
 * A msgpack extension value whose code Pyro5 does not define (anything but
 * 0x30-0x33, including the msgpack timestamp code -1). Decoding keeps it
 * as it is and encoding writes it back unchanged, so an echo returns it
 * as Pyro5's echo server does.
 *
 * @example Echo an ext value unchanged
 * ```ts
 * import { createMsgpackSerializer } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = createMsgpackSerializer();
 * const payload = new Uint8Array([0xd5, 0x07, 1, 2]); // fixext 2, code 7
 * const ext = ser.loads(payload) as { code: number; data: Uint8Array };
 * assert.equal(ext.code, 7);
 * assert.deepEqual([...ext.data], [1, 2]);
 * assert.deepEqual(ser.dumps(ext), payload);
 * ```
 */
export class MsgpackExt {
  /** The extension type code, -128 to 127. */
  readonly code: number;
  /** The extension payload. */
  readonly data: Uint8Array;

  /**
   * Creates an extension value.
   *
   * @param code The type code, an integer from -128 to 127.
   * @param data The payload bytes.
   * @throws {RangeError} When the code is out of range.
   */
  constructor(code: number, data: Uint8Array) {
    if (!Number.isInteger(code) || code < -128 || code > 127) {
      throw new RangeError(`Cannot create msgpack ext: code ${code} is outside -128..127`);
    }
    this.code = code;
    this.data = data;
  }
}
