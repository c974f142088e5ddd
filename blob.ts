/**
 * Serialized blobs, as Pyro5's `SerializedBlob`: call arguments that stay
 * serialized on the way through a daemon, so that a dispatcher can pass
 * them on without decoding them (and without knowing their classes). Pass
 * a blob as the only argument of a call; the method receives a blob too
 * and decodes it with {@linkcode SerializedBlob.deserialized} when it wants
 * to. On the wire the call has flag KEEPSERIALIZED and an annotation
 * `BLBI` holding `marshal((info, objectId, method))`.
 *
 * @example Make a blob of call arguments
 * ```ts
 * import { SerializedBlob } from "@tyro/tyro";
 * import assert from "node:assert/strict";
 *
 * const blob = new SerializedBlob("order-17", ["widget", 3]);
 * assert.equal(blob.info, "order-17");
 * assert.deepEqual(blob.deserialized(), ["widget", 3]);
 * ```
 *
 * @module
 */

import { SerializeError } from "./errors.ts";
import { serializerFor } from "./serializers/mod.ts";

/** Call arguments that stay serialized on their way through a daemon. */
export class SerializedBlob {
  /** Small descriptive data (an id or a name); it must be marshallable. */
  readonly info: unknown;
  #data: unknown;
  #payload: Uint8Array | null = null;
  #serializerId = 0;

  /**
   * Wraps call arguments.
   *
   * @param info Small descriptive data (an id, a name).
   * @param data The arguments the receiver gets from `deserialized()`: an array,
   *   as the positional arguments of a call.
   */
  constructor(info: unknown, data: unknown) {
    this.info = info;
    this.#data = data;
  }

  /**
   * A blob that holds a received call payload as it came (the daemon makes
   * these for methods called with a blob).
   *
   * @param info The blob's info.
   * @param payload The serialized call payload.
   * @param serializerId The serializer it is in.
   * @returns The blob.
   */
  static fromPayload(info: unknown, payload: Uint8Array, serializerId: number): SerializedBlob {
    const blob = new SerializedBlob(info, undefined);
    blob.#payload = payload;
    blob.#serializerId = serializerId;
    return blob;
  }

  /**
   * Whether the blob still holds serialized bytes.
   *
   * @returns True for a blob received by a daemon.
   */
  get containsBlob(): boolean {
    return this.#payload !== null;
  }

  /**
   * The serialized call payload and its serializer id, for a blob received
   * by a daemon; null otherwise.
   *
   * @returns The payload and serializer id, or null.
   */
  get serialized(): { payload: Uint8Array; serializerId: number } | null {
    return this.#payload ? { payload: this.#payload, serializerId: this.#serializerId } : null;
  }

  /**
   * The wrapped data, decoded when needed.
   *
   * @returns The arguments the sender wrapped.
   * @throws {SerializeError} When the serialized bytes cannot be decoded.
   */
  deserialized(): unknown {
    if (!this.#payload) return this.#data;
    try {
      return serializerFor(this.#serializerId).loadsCall(this.#payload).args;
    } catch (e) {
      if (e instanceof SerializeError) throw e;
      throw new SerializeError(`Cannot decode blob: ${(e as Error).message}`, { cause: e });
    }
  }
}
