/**
 * The four Pyro5 serializers with their stable ids: serpent (1, the
 * default), marshal (2), json (3) and msgpack (4).
 *
 * @example Serialize a call the way Pyro5 does
 * ```ts
 * import { serializerFor } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * const ser = serializerFor("serpent");
 * const bytes = ser.dumpsCall("test.echoserver", "echo", ["hi"], {});
 * const call = ser.loadsCall(bytes);
 * assert.equal(call.method, "echo");
 * assert.deepEqual(call.args, ["hi"]);
 * ```
 *
 * @module
 */

import { createJsonSerializer } from "./json.ts";
import { createMarshalSerializer } from "./marshal.ts";
import { createMsgpackSerializer } from "./msgpack.ts";
import { createSerpentSerializer } from "./serpent.ts";
import type { Serializer, SerializerOptions } from "./types.ts";
import { SerializeError } from "../errors.ts";

export { Complex, DEFAULT_MAX_DEPTH, FrozenSet, isTuple, PyFloat, tuple } from "./types.ts";
export type { CallMessage, Serializer, SerializerOptions } from "./types.ts";
export {
  base64Decode,
  base64Encode,
  ClassRegistry,
  DEFAULT_REGISTRY,
  exceptionToDict,
  ExceptionWrapper,
  TO_PYRO_DICT,
} from "./registry.ts";
export type {
  AnyConstructor,
  ClassToDict,
  DictToClass,
  ProxyState,
  PyroDictConvertible,
} from "./registry.ts";
export {
  createJsonSerializer,
  createMarshalSerializer,
  createMsgpackSerializer,
  createSerpentSerializer,
};

/** Serializer ids by name, as Pyro5 numbers them. */
export const SERIALIZER_IDS: Readonly<Record<string, number>> = Object.freeze({
  serpent: 1,
  marshal: 2,
  json: 3,
  msgpack: 4,
});

const FACTORIES: Readonly<Record<number, (options?: SerializerOptions) => Serializer>> = Object
  .freeze({
    1: createSerpentSerializer,
    2: createMarshalSerializer,
    3: createJsonSerializer,
    4: createMsgpackSerializer,
  });

const defaults = new Map<number, Serializer>();

/**
 * Returns the serializer for a Pyro5 id or name. Without options the
 * shared default instance is returned.
 *
 * @param idOrName `1`-`4`, or `serpent`, `marshal`, `json`, `msgpack`.
 * @param options A class registry and limits.
 * @returns The serializer.
 * @throws {SerializeError} For an unknown id or name.
 *
 * @example Look up by id
 * ```ts
 * import { serializerFor } from "@tyro/tyro/serializers";
 * import assert from "node:assert/strict";
 *
 * assert.equal(serializerFor(4).name, "msgpack");
 * ```
 */
export function serializerFor(idOrName: number | string, options?: SerializerOptions): Serializer {
  const id = typeof idOrName === "number" ? idOrName : SERIALIZER_IDS[idOrName];
  const factory = id === undefined ? undefined : FACTORIES[id];
  if (!factory) {
    throw new SerializeError(
      `Cannot find serializer: unknown serializer ${JSON.stringify(idOrName)}`,
    );
  }
  if (options === undefined) {
    let s = defaults.get(id);
    if (!s) defaults.set(id, s = factory());
    return s;
  }
  return factory(options);
}
