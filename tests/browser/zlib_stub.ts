/**
 * Stands in for node:zlib in the browser bundle: Pyro's zlib compression
 * (COMPRESSION) is not available there.
 *
 * @module
 */

/**
 * Refuses: no zlib in a browser.
 *
 * @returns Never.
 * @throws {Error} Always.
 */
export function deflateSync(): Uint8Array {
  throw new Error("zlib compression is not available in the browser");
}

/**
 * Refuses: no zlib in a browser.
 *
 * @returns Never.
 * @throws {Error} Always.
 */
export function inflateSync(): Uint8Array {
  throw new Error("zlib compression is not available in the browser");
}
