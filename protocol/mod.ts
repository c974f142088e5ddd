/**
 * Pyro5 wire protocol 502, without I/O: message encoding, header decoding
 * and an incremental frame reader. Used by the client and the daemon, and
 * by anyone who moves Pyro messages over their own transport.
 *
 * @example Round-trip a message
 * ```ts
 * import { decodeMessage, encodeMessage, Flags, MessageType } from "@tyro/tyro/protocol";
 * import assert from "node:assert/strict";
 *
 * const bytes = encodeMessage({
 *   type: MessageType.INVOKE,
 *   serializerId: 1,
 *   flags: Flags.ONEWAY,
 *   seq: 7,
 *   annotations: { XTRA: new Uint8Array([1, 2]) },
 *   payload: new TextEncoder().encode("# serpent utf-8 python3.2\nNone"),
 * });
 * const msg = decodeMessage(bytes);
 * assert.equal(msg.seq, 7);
 * assert.equal(msg.flags, Flags.ONEWAY);
 * assert.deepEqual([...msg.annotations.get("XTRA")!], [1, 2]);
 * ```
 *
 * @module
 */

export {
  COMPRESSION_THRESHOLD,
  DEFAULT_MAX_MESSAGE_SIZE,
  Flags,
  HEADER_SIZE,
  MAGIC,
  MESSAGE_TYPE_NAMES,
  MessageType,
  PING_SERIALIZER_ID,
  PROTOCOL_VERSION,
} from "./constants.ts";
export {
  checkPrefix,
  decodeBody,
  decodeHeader,
  decodeMessage,
  encodeMessage,
  encodeMessageParts,
  randomUuidBytes,
  uuidFromBytes,
  uuidToBytes,
} from "./message.ts";
export type { MessageFlags, MessageTypes } from "./constants.ts";
export type {
  DecodeOptions,
  EncodeOptions,
  Message,
  MessageHeader,
  OutgoingMessage,
} from "./message.ts";
export { MessageReader } from "./message_reader.ts";
