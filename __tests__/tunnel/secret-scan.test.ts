import { generateKeyPairSync } from "node:crypto";
import * as path from "node:path";
import {
  checkSensitivity,
  formatFindings,
  scanDirectory,
  scanFile,
  SecretFinding,
  stripReferences,
} from "../../lib/audit/secret-scan";
import { loadDeployment, parseDeployment } from "../../lib/config/load";
import { synthDeployment, SynthResult } from "../support/synth";
import { editConfig, SHIPPED_CONFIGS } from "./helpers";

/** A small seeded generator, so that the random samples are the same in every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

function randomString(
  random: () => number,
  alphabet: string,
  length: number,
): string {
  return Array.from(
    { length },
    () => alphabet[Math.floor(random() * alphabet.length)],
  ).join("");
}

const ALPHANUMERIC =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64 = `${ALPHANUMERIC}+/`;
const HEX = "0123456789abcdef";

/** Scans one string placed where Terraform JSON would contain it. */
function scanValue(value: string, key = "value"): SecretFinding[] {
  return scanFile(
    "test.json",
    JSON.stringify({ resource: { test: { example: { [key]: value } } } }),
  );
}

function rules(findings: readonly SecretFinding[]): string[] {
  return findings.map((finding) => finding.rule);
}

describe("secret scanner", () => {
  const random = seededRandom(20250);

  test("environment literal is found", () => {
    expect(
      rules(scanValue(`DB_PASSWORD=${randomString(random, "abcdefgh", 10)}`)),
    ).toContain("environment-literal");
  });

  test("environment reference passes", () => {
    expect(scanValue("POSTGRES_PASSWORD=${random_password.db.result}")).toEqual(
      [],
    );
  });

  test("sensitive() reference passes", () => {
    expect(
      scanValue(
        "TUNNEL_TOKEN=${sensitive(data.cloudflare_zero_trust_tunnel_cloudflared_token.t.token)}",
      ),
    ).toEqual([]);
  });

  test("secret file path passes", () => {
    expect(scanValue("POSTGRES_PASSWORD_FILE=/run/secrets/postgres")).toEqual(
      [],
    );
  });

  test("secret attribute literal is found", () => {
    expect(
      rules(scanValue(randomString(random, "abcdefgh", 10), "tunnel_secret")),
    ).toContain("secret-attribute");
  });

  test("private key is found", () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    expect(rules(scanValue(pem, "content"))).toContain("private-key");
  });

  test("tunnel token is found", () => {
    const token = Buffer.from(
      JSON.stringify({
        a: randomString(random, HEX, 32),
        t: randomString(random, HEX, 32),
        s: randomString(random, BASE64, 44),
      }),
    ).toString("base64");
    expect(rules(scanValue(`--token ${token}`, "command"))).toContain(
      "encoded-token",
    );
  });

  test("base64 secrets are found", () => {
    for (let sample = 0; sample < 200; sample++) {
      const secret = Buffer.from(
        Array.from({ length: 32 }, () => Math.floor(random() * 256)),
      ).toString("base64");
      expect(rules(scanValue(secret, "name"))).toContain("high-entropy");
    }
  });

  test("generated passwords are found", () => {
    for (let sample = 0; sample < 200; sample++) {
      const secret = randomString(random, ALPHANUMERIC, 32);
      expect({
        secret: secret.length,
        rules: rules(scanValue(secret, "name")),
      }).toEqual({ secret: 32, rules: ["high-entropy"] });
    }
  });

  test("hex ids are found", () => {
    for (let sample = 0; sample < 200; sample++) {
      expect(
        rules(scanValue(randomString(random, HEX, 32), "zone_id")),
      ).toContain("high-entropy");
    }
  });

  test("image digest passes", () => {
    expect(
      scanValue(`nginx@sha256:${randomString(random, HEX, 64)}`, "name"),
    ).toEqual([]);
  });

  test("paths and identifiers pass", () => {
    for (const value of [
      "curl -fsS --max-time 3 http://127.0.0.1:8088/StatusPing | grep -q RUNNING",
      "/usr/local/bin/ignition/data",
      "tunnel_record-ignition-frontend-01-mes-example-com_49BD83C2",
      "POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256 --auth-local=scram-sha-256",
    ]) {
      expect(scanValue(value, "name")).toEqual([]);
    }
  });

  test("findings never contain the secret", () => {
    const secret = randomString(random, ALPHANUMERIC, 32);
    const report = formatFindings([
      ...scanValue(`API_KEY=${secret}`),
      ...scanValue(secret, "password"),
    ]);
    expect(report).not.toContain(secret.slice(0, 6));
  });

  test("nested references are stripped", () => {
    expect(stripReferences('a${jsonencode({ b = "c" })}d $${literal}')).toBe(
      "a d ${literal}",
    );
  });
});

describe("sensitivity check", () => {
  test("insensitive secret variable is found", () => {
    expect(
      rules(
        checkSensitivity("test.json", {
          variable: { cloudflare_account_id: { type: "string" } },
        }),
      ),
    ).toEqual(["insensitive-variable"]);
  });

  test("sensitive variable passes", () => {
    expect(
      checkSensitivity("test.json", {
        variable: { cloudflare_zone_id: { type: "string", sensitive: true } },
      }),
    ).toEqual([]);
  });

  test("output of a password is found", () => {
    const document = {
      output: { admin: { value: "${random_password.admin.result}" } },
    };
    expect(rules(checkSensitivity("test.json", document))).toEqual([
      "insensitive-output",
    ]);
  });

  test("output of the tunnel token is found", () => {
    const document = {
      output: {
        token: {
          value:
            "${data.cloudflare_zero_trust_tunnel_cloudflared_token.t.token}",
        },
      },
    };
    expect(rules(checkSensitivity("test.json", document))).toEqual([
      "insensitive-output",
    ]);
  });

  test("output of a sensitive variable is found", () => {
    const document = {
      variable: { cloudflare_zone_id: { sensitive: true } },
      output: { zone: { value: "${var.cloudflare_zone_id}" } },
    };
    expect(rules(checkSensitivity("test.json", document))).toEqual([
      "insensitive-output",
    ]);
  });

  test("sensitive output passes", () => {
    const document = {
      output: {
        admin: { value: "${random_password.admin.result}", sensitive: true },
      },
    };
    expect(checkSensitivity("test.json", document)).toEqual([]);
  });
});

/** Each shipped configuration, then the same with flat hostnames and with Cloudflare off. */
const VARIANTS = SHIPPED_CONFIGS.flatMap((file) => [
  [path.basename(file), () => loadDeployment(file, {})],
  [
    `${path.basename(file)} with flat hostnames`,
    () =>
      parseDeployment(
        editConfig(file, (document) => document.set("hostnames", "flat")),
        file,
        {},
      ),
  ],
  [
    `${path.basename(file)} without Cloudflare`,
    () =>
      parseDeployment(
        editConfig(file, (document) =>
          document.setIn(["cloudflare", "enabled"], false),
        ),
        file,
        {},
      ),
  ],
]) as [string, () => ReturnType<typeof loadDeployment>][];

describe.each(VARIANTS)("synthesized %s", (_name, load) => {
  let result: SynthResult;
  beforeAll(() => {
    result = synthDeployment(load());
  });
  afterAll(() => result?.cleanup());

  test("no file contains a secret literal", () => {
    expect(formatFindings(scanDirectory(result.outdir))).toBe("");
  });

  test("secret variables are sensitive", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const [name, variable] of Object.entries<{ sensitive?: boolean }>(
        stack.variable ?? {},
      )) {
        if (name.startsWith("cloudflare")) {
          expect({ name, sensitive: variable.sensitive }).toEqual({
            name,
            sensitive: true,
          });
        }
      }
    }
  });

  test("secret outputs are sensitive", () => {
    const findings = Object.entries(result.stacks).flatMap(([id, stack]) =>
      checkSensitivity(id, stack),
    );
    expect(formatFindings(findings)).toBe("");
  });
});
