/**
 * Exposure of server objects, as Pyro5's `@expose`, `@oneway` and
 * `@behavior`, with standard (TC39) decorators. Only exposed members are
 * reachable remotely; names starting with `_` never are (except
 * `__dunder__` names, as in Pyro5), and nothing of `Object.prototype`
 * ever is.
 *
 * @example Expose a class
 * ```ts
 * import { behavior, expose, exposedMembers, oneway } from "@tyro/tyro/server";
 * import assert from "node:assert/strict";
 *
 * @behavior({ instanceMode: "single" })
 * class Thermostat {
 *   #target = 20;
 *   @expose
 *   get target(): number {
 *     return this.#target;
 *   }
 *   set target(v: number) {
 *     this.#target = v;
 *   }
 *   @expose
 *   read(): number {
 *     return 19.5;
 *   }
 *   @oneway
 *   reset(): void {}
 *   secret(): string {
 *     return "not exposed";
 *   }
 * }
 * const m = exposedMembers(Thermostat);
 * assert.deepEqual([...m.methods].sort(), ["read", "reset"]);
 * assert.deepEqual([...m.oneway], ["reset"]);
 * assert.deepEqual([...m.attrs], ["target"]);
 * ```
 *
 * @module
 */

(Symbol as { metadata?: symbol }).metadata ??= Symbol.for("Symbol.metadata");

/** How instances of a registered class are made. */
export type InstanceMode = "single" | "session" | "percall";

/** Options of {@linkcode behavior}. */
export interface BehaviorOptions {
  /**
   * One instance per daemon, one per client connection, or one per call.
   *
   * @default {"session"}
   */
  instanceMode?: InstanceMode;
  /** Makes an instance; by default the class is constructed without arguments. */
  // deno-lint-ignore no-explicit-any
  instanceCreator?: (cls: new (...args: any[]) => unknown) => unknown;
}

/** The exposed members of an object or class, Pyro5's metadata. */
export interface ExposedMembers {
  /** Exposed method names. */
  methods: Set<string>;
  /** Exposed oneway method names (also in `methods`). */
  oneway: Set<string>;
  /** Exposed attribute (property) names. */
  attrs: Set<string>;
}

/** Options to expose an undecorated object. */
export interface ExposeOptions {
  /** Method names to expose, or `true` for every public method. */
  methods?: readonly string[] | true;
  /** Oneway method names. */
  oneway?: readonly string[];
  /** Attribute (property) names to expose. */
  attrs?: readonly string[];
}

const MD_CLASS = Symbol("tyro.exposeClass");
const MD_METHODS = Symbol("tyro.methods");
const MD_ONEWAY = Symbol("tyro.oneway");
const MD_ATTRS = Symbol("tyro.attrs");
const MD_BEHAVIOR = Symbol("tyro.behavior");

/** Pyro5's dunder names that are always private. */
const PRIVATE_DUNDERS = new Set([
  "__init__",
  "__init_subclass__",
  "__class__",
  "__module__",
  "__weakref__",
  "__call__",
  "__new__",
  "__del__",
  "__repr__",
  "__str__",
  "__format__",
  "__nonzero__",
  "__bool__",
  "__coerce__",
  "__cmp__",
  "__eq__",
  "__ne__",
  "__hash__",
  "__ge__",
  "__gt__",
  "__le__",
  "__lt__",
  "__dir__",
  "__enter__",
  "__exit__",
  "__copy__",
  "__deepcopy__",
  "__sizeof__",
  "__getattr__",
  "__setattr__",
  "__hasattr__",
  "__getattribute__",
  "__delattr__",
  "__instancecheck__",
  "__subclasscheck__",
  "__getinitargs__",
  "__getnewargs__",
  "__getstate__",
  "__setstate__",
  "__reduce__",
  "__reduce_ex__",
  "__subclasshook__",
  "__proto__",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
]);

const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));
const FUNCTION_MEMBERS = new Set(Object.getOwnPropertyNames(Function.prototype));

/**
 * Tells whether a member name is private (never remotely reachable), by
 * Pyro5's rule plus JS's own: `_x` is private, `__x__` (longer than 4) is
 * not unless it is one of Pyro5's special dunders; `constructor` and every
 * `Object.prototype` member are private.
 *
 * @param name A member name.
 * @returns True when the name may never be called remotely.
 */
export function isPrivateName(name: string): boolean {
  if (PRIVATE_DUNDERS.has(name) || OBJECT_MEMBERS.has(name)) return true;
  if (name === "constructor" || name === "prototype") return true;
  if (!name.startsWith("_")) return false;
  return !(name.length > 4 && name.startsWith("__") && name.endsWith("__"));
}

type Meta = Record<symbol, unknown>;

function addTo(meta: Meta, key: symbol, name: string): void {
  const own = Object.hasOwn(meta, key) ? meta[key] as string[] : (meta[key] = []) as string[];
  own.push(name);
}

function nameOf(context: { name: string | symbol }): string {
  if (typeof context.name !== "string") {
    throw new TypeError("Cannot expose a member with a symbol or private name");
  }
  return context.name;
}

/**
 * Decorator that exposes a method, a getter/setter/accessor (as an
 * attribute), or a whole class (all its public methods and accessors).
 *
 * @param _target The decorated class or member.
 * @param context The decorator context.
 */
export function expose(
  // deno-lint-ignore no-explicit-any
  _target: any,
  context: DecoratorContext,
): void {
  const meta = context.metadata as Meta;
  switch (context.kind) {
    case "class":
      meta[MD_CLASS] = true;
      return;
    case "method":
      addTo(meta, MD_METHODS, nameOf(context));
      return;
    case "getter":
    case "setter":
    case "accessor":
    case "field":
      addTo(meta, MD_ATTRS, nameOf(context));
      return;
  }
}

/**
 * Decorator that exposes a method as oneway: the client does not wait for
 * it and gets no result.
 *
 * @param _target The method.
 * @param context The decorator context.
 */
export function oneway(
  // deno-lint-ignore no-explicit-any
  _target: (...args: any[]) => unknown,
  context: ClassMethodDecoratorContext,
): void {
  const meta = context.metadata as Meta;
  const name = nameOf(context);
  addTo(meta, MD_METHODS, name);
  addTo(meta, MD_ONEWAY, name);
}

/**
 * Class decorator that sets the instance mode of a registered class.
 *
 * @param options The instance mode and creator.
 * @returns The decorator.
 */
export function behavior(
  options: BehaviorOptions,
  // deno-lint-ignore no-explicit-any
): (target: new (...args: any[]) => unknown, context: ClassDecoratorContext) => void {
  const mode = options.instanceMode ?? "session";
  if (mode !== "single" && mode !== "session" && mode !== "percall") {
    throw new TypeError(`Cannot set instance mode: invalid instance mode ${JSON.stringify(mode)}`);
  }
  return (_target, context) => {
    (context.metadata as Meta)[MD_BEHAVIOR] = {
      instanceMode: mode,
      instanceCreator: options.instanceCreator,
    };
  };
}

function metadataOf(cls: unknown): Meta | undefined {
  if (typeof cls !== "function") return undefined;
  const meta = (cls as unknown as Record<symbol, Meta | undefined>)[Symbol.metadata!] ?? undefined;
  // Deno's decorator transform (and so the Node build) does not link a decorated
  // subclass's metadata to its parent's, as the spec does: link it here.
  const parent: unknown = Object.getPrototypeOf(cls);
  if (meta && typeof parent === "function" && Object.getPrototypeOf(meta) === null) {
    const inherited = metadataOf(parent);
    if (inherited && inherited !== meta) Object.setPrototypeOf(meta, inherited);
  }
  return meta;
}

function collect(meta: Meta | undefined, key: symbol): string[] {
  const out: string[] = [];
  for (let m = meta; m; m = Object.getPrototypeOf(m)) {
    if (Object.hasOwn(m, key)) out.push(...(m[key] as string[]));
  }
  return out;
}

/**
 * The instance mode and creator of a class, as set by {@linkcode behavior}.
 *
 * @param cls The class.
 * @returns The behavior, `session` mode by default.
 */
export function behaviorOf(
  cls: unknown,
): Required<Pick<BehaviorOptions, "instanceMode">> & BehaviorOptions {
  for (let m = metadataOf(cls); m; m = Object.getPrototypeOf(m)) {
    if (Object.hasOwn(m, MD_BEHAVIOR)) {
      return m[MD_BEHAVIOR] as Required<Pick<BehaviorOptions, "instanceMode">> & BehaviorOptions;
    }
  }
  return { instanceMode: "session" };
}

function publicMembersOf(proto: object | null): { methods: string[]; attrs: string[] } {
  const methods: string[] = [];
  const attrs: string[] = [];
  const seen = new Set<string>();
  for (
    let p = proto;
    p && p !== Object.prototype && p !== Function.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (seen.has(name) || isPrivateName(name)) continue;
      seen.add(name);
      const d = Object.getOwnPropertyDescriptor(p, name)!;
      if (d.get || d.set) attrs.push(name);
      else if (typeof d.value === "function") methods.push(name);
    }
  }
  return { methods, attrs };
}

const cache = new WeakMap<object, ExposedMembers>();

/**
 * The exposed members of an object or class: from decorators, or for a
 * plain object (an object literal), every public own function as a method
 * and every other public own property as an attribute. `options` overrides
 * both.
 *
 * @param target An instance, a class, or a plain object.
 * @param options Explicit exposure for undecorated objects.
 * @returns The methods, oneway methods and attributes.
 */
export function exposedMembers(target: unknown, options?: ExposeOptions): ExposedMembers {
  if (typeof target !== "object" && typeof target !== "function" || target === null) {
    return { methods: new Set(), oneway: new Set(), attrs: new Set() };
  }
  const isClass = typeof target === "function";
  const cls = isClass ? target : (target as object).constructor;
  const proto = Object.getPrototypeOf(target);
  const plain = !isClass && (proto === Object.prototype || proto === null);
  if (!options && !plain && cls) {
    const hit = cache.get(cls);
    if (hit) return hit;
  }
  const result: ExposedMembers = { methods: new Set(), oneway: new Set(), attrs: new Set() };
  if (options) {
    const src = isClass ? (target as { prototype: object }).prototype : plain ? null : proto;
    if (options.methods === true) {
      const pub = plain ? plainMembers(target as object) : publicMembersOf(src);
      for (const m of pub.methods) result.methods.add(m);
    } else {
      for (const m of options.methods ?? []) if (!isPrivateName(m)) result.methods.add(m);
    }
    for (const m of options.oneway ?? []) {
      if (!isPrivateName(m)) result.methods.add(m), result.oneway.add(m);
    }
    for (const a of options.attrs ?? []) if (!isPrivateName(a)) result.attrs.add(a);
    return result;
  }
  if (plain) {
    const pub = plainMembers(target as object);
    for (const m of pub.methods) result.methods.add(m);
    for (const a of pub.attrs) result.attrs.add(a);
    return result;
  }
  const meta = metadataOf(cls);
  if (meta) {
    if (hasFlag(meta, MD_CLASS)) {
      const pub = publicMembersOf(isClass ? (target as { prototype: object }).prototype : proto);
      for (const m of pub.methods) result.methods.add(m);
      for (const a of pub.attrs) result.attrs.add(a);
    }
    for (const m of collect(meta, MD_METHODS)) if (!isPrivateName(m)) result.methods.add(m);
    for (const m of collect(meta, MD_ONEWAY)) if (!isPrivateName(m)) result.oneway.add(m);
    for (const a of collect(meta, MD_ATTRS)) if (!isPrivateName(a)) result.attrs.add(a);
  }
  if (cls) cache.set(cls, result);
  return result;
}

function hasFlag(meta: Meta, key: symbol): boolean {
  for (let m: Meta | undefined = meta; m; m = Object.getPrototypeOf(m)) {
    if (Object.hasOwn(m, key)) return true;
  }
  return false;
}

function plainMembers(obj: object): { methods: string[]; attrs: string[] } {
  const methods: string[] = [];
  const attrs: string[] = [];
  for (const name of Object.keys(obj)) {
    if (isPrivateName(name) || FUNCTION_MEMBERS.has(name) && name !== "name") continue;
    const d = Object.getOwnPropertyDescriptor(obj, name)!;
    if (typeof d.value === "function") methods.push(name);
    else attrs.push(name);
  }
  return { methods, attrs };
}
