/**
 * The check every serializer's `loadsCall` makes: a decoded call must be
 * `(objectId: str, method: str, args: sequence, kwargs: dict | None)`.
 *
 * @internal
 * @module
 */

import { SerializeError } from "../errors.ts";
import { isPlainObject } from "./registry.ts";
import type { CallMessage } from "./types.ts";

/**
 * Checks the four parts of a decoded call and returns them as a call.
 *
 * @param serializer The serializer's name, for the error message.
 * @param objectId The target object id.
 * @param method The method name.
 * @param args The positional arguments (a tuple comes back as a plain array).
 * @param kwargs The keyword arguments, or null.
 * @returns The call.
 * @throws {SerializeError} When a part has the wrong type.
 */
export function callMessage(
  serializer: string,
  objectId: unknown,
  method: unknown,
  args: unknown,
  kwargs: unknown,
): CallMessage {
  if (typeof objectId !== "string" || typeof method !== "string") {
    throw callError(serializer, "the object id and method must be strings");
  }
  if (!Array.isArray(args)) throw callError(serializer, "the arguments are not a sequence");
  if (kwargs !== null && !isPlainObject(kwargs)) {
    throw callError(serializer, "the keyword arguments are not a dict with string keys");
  }
  return {
    objectId,
    method,
    args: Object.isFrozen(args) ? copy(args) : args,
    kwargs: kwargs as Record<string, unknown> | null,
  };
}

function callError(serializer: string, what: string): SerializeError {
  return new SerializeError(`Cannot decode ${serializer} call: ${what}`);
}

/** A mutable copy of a (frozen) tuple: a loop, as `slice()` takes a slow path on frozen arrays. */
function copy(items: readonly unknown[]): unknown[] {
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = items[i];
  return out;
}

/**
 * Checks a decoded 4-item call sequence (serpent, marshal, msgpack).
 *
 * @param serializer The serializer's name, for the error message.
 * @param call The decoded payload.
 * @returns The call.
 * @throws {SerializeError} When it is not a call.
 */
export function callFromSequence(serializer: string, call: unknown): CallMessage {
  if (!Array.isArray(call) || call.length !== 4) {
    throw new SerializeError(
      `Cannot decode ${serializer} call: the payload is not a 4-item sequence`,
    );
  }
  return callMessage(serializer, call[0], call[1], call[2], call[3]);
}
