/**
 * The transport seam: a byte connection with `read`, `write` and `close`.
 * `Deno.Conn` fits it as it is; {@linkcode fromStreams} adapts any
 * readable/writable byte stream pair. Nothing above this seam knows which
 * transport it has.
 *
 * @module
 */

/** A bidirectional byte connection. */
export interface Connection {
  /**
   * Reads into `buffer`.
   *
   * @param buffer Where to put the bytes.
   * @returns How many bytes were read, or null at the end of the stream.
   */
  read(buffer: Uint8Array): Promise<number | null>;
  /**
   * Writes some or all of `data`.
   *
   * @param data The bytes.
   * @returns How many bytes were written.
   */
  write(data: Uint8Array): Promise<number>;
  /** Closes the connection; pending reads end. */
  close(): void;
  /** The local address, when the transport has one. */
  readonly localAddr?: unknown;
  /** The peer's address, when the transport has one. */
  readonly remoteAddr?: unknown;
  /** The peer's certificate, on a TLS connection whose peer sent one. */
  readonly peerCertificate?: unknown;
}

/** A source of incoming connections. */
export interface Listener extends AsyncIterable<Connection> {
  /** Stops accepting. */
  close(): void;
  /** The bound address. */
  readonly addr: unknown;
}

/** A readable/writable byte stream pair, such as a subprocess's stdio or a socket's streams. */
export interface StreamPair {
  /** Bytes from the peer. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes to the peer. */
  writable: WritableStream<Uint8Array>;
}

/**
 * Writes all of `data`, looping over partial writes.
 *
 * @param conn The connection.
 * @param data The bytes.
 */
export async function writeAll(conn: Connection, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) {
    off += await conn.write(off === 0 ? data : data.subarray(off));
  }
}

/**
 * Adapts a readable/writable byte stream pair into a {@linkcode Connection},
 * to attach Tyro to an existing stream.
 *
 * @param pair The streams.
 * @param onClose Called once when the connection is closed.
 * @returns The connection.
 *
 * @example Attach to an in-memory pipe
 * ```ts
 * import { fromStreams } from "@tyro/tyro/transport";
 * import assert from "node:assert/strict";
 *
 * const pipe = new TransformStream<Uint8Array, Uint8Array>();
 * const conn = fromStreams({ readable: pipe.readable, writable: pipe.writable });
 * await conn.write(new Uint8Array([1, 2, 3]));
 * const buf = new Uint8Array(8);
 * assert.equal(await conn.read(buf), 3);
 * conn.close();
 * ```
 */
export function fromStreams(pair: StreamPair, onClose?: () => void): Connection {
  const reader = pair.readable.getReader();
  const writer = pair.writable.getWriter();
  let pending: Uint8Array | null = null;
  let closed = false;
  return {
    async read(buffer: Uint8Array): Promise<number | null> {
      if (closed) return null;
      if (!pending || pending.length === 0) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch {
          return null;
        }
        if (r.done || !r.value) return null;
        pending = r.value;
      }
      const n = Math.min(buffer.length, pending.length);
      buffer.set(pending.subarray(0, n));
      pending = pending.subarray(n);
      return n;
    },
    async write(data: Uint8Array): Promise<number> {
      if (closed) throw new Error("connection closed");
      // Wait for room, not for the peer to read: a pipe with no reader yet must not stall.
      await writer.ready;
      writer.write(data.slice()).catch(() => {});
      return data.length;
    },
    close(): void {
      if (closed) return;
      closed = true;
      reader.cancel().catch(() => {});
      writer.close().catch(() => {});
      onClose?.();
    },
  };
}
