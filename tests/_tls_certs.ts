/**
 * Test support: a throwaway PKI made with `openssl` in a temp folder (no
 * key is ever committed). One CA signs the server certificate (valid for
 * 127.0.0.1, ::1 and localhost) and two client certificates (alice, bob);
 * a second CA and a self-signed "rogue" certificate stand for strangers.
 *
 * @module
 */

/** Paths of the generated files. */
export interface TestPki extends AsyncDisposable {
  /** The temp folder. */
  dir: string;
  /** The CA certificate that signed server, alice and bob. */
  ca: string;
  /** A CA that signed nothing used here. */
  otherCa: string;
  /** Server certificate and key. */
  serverCert: string;
  serverKey: string;
  /** Client certificate and key, CN=alice, C=NL. */
  aliceCert: string;
  aliceKey: string;
  /** alice's key encrypted with the password `sesame`. */
  aliceKeyEncrypted: string;
  /** alice's certificate and key in one file. */
  aliceCombined: string;
  /** Client certificate and key, CN=bob, signed by the same CA. */
  bobCert: string;
  bobKey: string;
  /** A self-signed client certificate and key, CN=mallory. */
  rogueCert: string;
  rogueKey: string;
  /** Reads a generated file. */
  read(path: string): string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** Tells whether the `openssl` command is there (tests skip otherwise). */
export function opensslAvailable(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Makes the test PKI. Remove it with `await using`.
 *
 * @returns The file paths.
 */
export async function makeTestPki(): Promise<TestPki> {
  const dir = await Deno.makeTempDir({ prefix: "tyro-tls-" });
  const p = (f: string) => `${dir}/${f}`;
  const days = ["-days", "2"];
  await Deno.writeTextFile(
    p("leaf.ext"),
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
      "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n",
  );
  await Deno.writeTextFile(
    p("server.ext"),
    "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await Deno.writeTextFile(p("client.ext"), "extendedKeyUsage=clientAuth\n");
  const ca = (name: string, cn: string) =>
    openssl(
      dir,
      "req",
      "-x509",
      ...EC,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
      ...days,
      "-subj",
      `/O=Tyro Test/CN=${cn}`,
    );
  const leaf = async (name: string, subj: string, ext: string) => {
    await openssl(
      dir,
      "req",
      ...EC,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subj,
    );
    await Deno.writeTextFile(
      p(`${name}.all.ext`),
      (await Deno.readTextFile(p("leaf.ext"))) + (await Deno.readTextFile(p(ext))),
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.crt`,
      ...days,
      "-extfile",
      `${name}.all.ext`,
    );
  };
  await Promise.all([ca("ca", "Tyro Test CA"), ca("otherca", "Other CA")]);
  await leaf("server", "/O=Tyro Test/CN=localhost", "server.ext");
  await leaf("alice", "/C=NL/O=Tyro Test/CN=alice", "client.ext");
  await leaf("bob", "/C=US/O=Tyro Test/CN=bob", "client.ext");
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "rogue.key",
    "-out",
    "rogue.crt",
    ...days,
    "-subj",
    "/C=NL/O=Tyro Test/CN=alice",
  );
  await openssl(
    dir,
    "pkey",
    "-in",
    "alice.key",
    "-out",
    "alice-enc.key",
    "-aes256",
    "-passout",
    "pass:sesame",
  );
  await Deno.writeTextFile(
    p("alice-combined.pem"),
    (await Deno.readTextFile(p("alice.crt"))) + (await Deno.readTextFile(p("alice.key"))),
  );
  return {
    dir,
    ca: p("ca.crt"),
    otherCa: p("otherca.crt"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    aliceCert: p("alice.crt"),
    aliceKey: p("alice.key"),
    aliceKeyEncrypted: p("alice-enc.key"),
    aliceCombined: p("alice-combined.pem"),
    bobCert: p("bob.crt"),
    bobKey: p("bob.key"),
    rogueCert: p("rogue.crt"),
    rogueKey: p("rogue.key"),
    read: (path: string) => Deno.readTextFileSync(path),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
