/**
 * Builds Tyro for Node.js (≥ 20) into `dist/node/`:
 *
 * - `tyro.mjs`: the whole library, name server and transports included, as
 *   one ES module (no `.d.ts`: `deno bundle --declaration` writes an
 *   unusable one, with the sources' relative imports left in);
 * - `ns.mjs`, `nsc.mjs`, `echoserver.mjs`: the name server, its control
 *   tool and the echo server command lines (as Pyro5's);
 * - `package.json`: `"type": "module"` and the exports map;
 *
 * and, for `node/test_node.mjs`, `dist/node-test/fixtures.mjs` (decorated
 * test classes, no library code).
 *
 * It runs `deno bundle --platform=node` (esbuild; TC39 decorators are
 * down-levelled), then makes the output safe to load on Node 20: a
 * `Symbol.metadata` polyfill first, and `node:sqlite` (Node ≥ 22.5 only)
 * taken at run time instead of by a static import, so that only the SQL
 * name server storage fails there, with a clear error.
 *
 * Run: `deno task build:node`.
 *
 * @module
 */

const root = new URL("..", import.meta.url).pathname;
const out = `${root}dist/node/`;

const BANNER = `// Tyro for Node.js: built by node/build.ts, do not edit.
(Symbol).metadata ??= Symbol.for("Symbol.metadata");
`;

/** `node:sqlite` without a static import: a missing module fails on use, not on load. */
const SQLITE_SHIM =
  `const { DatabaseSync } = globalThis.process?.getBuiltinModule?.("node:sqlite") ?? {
  DatabaseSync: class {
    constructor() {
      throw new Error(
        "SQL storage needs node:sqlite, which Node.js " + globalThis.process?.version +
          " does not have (Node.js >= 22.5 and Deno have it); use the memory storage",
      );
    }
  },
};`;

async function bundle(entry: string, output: string): Promise<void> {
  const args = ["bundle", "--quiet", "--platform=node", "--format=esm", "-o", output, entry];
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle ${entry} failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

function patch(file: string, cli: boolean): void {
  let text = Deno.readTextFileSync(file);
  // a command line runs its own main(); the bundled modules' `import.meta.main`
  // would be true for them all on a Node.js that has it (>= 24.2)
  if (cli) text = text.replaceAll("import.meta.main", "false");
  text = text.replace(
    /^import \{ DatabaseSync \} from "node:sqlite";$/m,
    () => SQLITE_SHIM,
  );
  const bad = text.match(/^import .* from "node:sqlite";$/m);
  if (bad) throw new Error(`${file}: unexpected node:sqlite import: ${bad[0]}`);
  text = (cli ? "#!/usr/bin/env node\n" : "") + BANNER + text;
  Deno.writeTextFileSync(file, text);
}

const config = JSON.parse(Deno.readTextFileSync(`${root}deno.json`));
const CLIS = ["ns", "nsc", "echoserver"];
Deno.mkdirSync(out, { recursive: true });
Deno.mkdirSync(`${root}dist/node-test`, { recursive: true });
await Promise.all([
  bundle("node/tyro.ts", `${out}tyro.mjs`).then(() => patch(`${out}tyro.mjs`, false)),
  ...CLIS.map((cli) =>
    bundle(`node/${cli}.ts`, `${out}${cli}.mjs`).then(() => {
      patch(`${out}${cli}.mjs`, true);
      Deno.chmodSync(`${out}${cli}.mjs`, 0o755);
    })
  ),
  bundle("node/test_fixtures.ts", `${root}dist/node-test/fixtures.mjs`),
]);
Deno.writeTextFileSync(
  `${out}package.json`,
  JSON.stringify(
    {
      name: config.name,
      version: config.version,
      type: "module",
      engines: { node: ">=20.5" },
      exports: { ".": "./tyro.mjs" },
      bin: Object.fromEntries(CLIS.map((c) => [`tyro-${c}`, `./${c}.mjs`])),
    },
    null,
    2,
  ) + "\n",
);
// deno-lint-ignore no-console
console.log(`built ${["tyro", ...CLIS].map((f) => `${out}${f}.mjs`).join(", ")}`);
