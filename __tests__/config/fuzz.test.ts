import { readFileSync } from "node:fs";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { ConfigError } from "../../lib/config/errors";
import { parseDeployment } from "../../lib/config/load";
import type { Deployment } from "../../lib/config/model";
import { DEFAULT_CONFIG, FULL_CONFIG, synthDeployment } from "../support/synth";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Returns every path to a value in a parsed document, containers included. */
function allPaths(
  value: Json,
  prefix: (string | number)[] = [],
): (string | number)[][] {
  const paths: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    value.forEach((item, index) =>
      paths.push(...allPaths(item, [...prefix, index])),
    );
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      paths.push(...allPaths(item, [...prefix, key]));
    }
  }
  return paths;
}

function getAt(document: Json, path: (string | number)[]): Json {
  return path.reduce<Json>(
    (current, segment) => (current as Record<string | number, Json>)[segment],
    document,
  );
}

/** One edit of the document: what a hurried user or a bad merge does to a YAML file. */
type Mutation =
  | { kind: "delete"; path: number }
  | { kind: "replace"; path: number; value: Json }
  | { kind: "copy"; path: number; from: number }
  | { kind: "add-key"; path: number; key: string; value: Json };

const scalar: fc.Arbitrary<Json> = fc.oneof(
  fc.integer({ min: -70000, max: 70000 }),
  fc.constantFrom(0, 1, 80, 443, 5432, 8080, 8088, 65535, 65536),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    "",
    "example.com",
    "10.213.2.0/24",
    "nginx:latest",
    "{nn}",
    "/",
    "/x/",
    "0.0.0.0",
    "a".repeat(300),
  ),
);
const jsonValue: fc.Arbitrary<Json> = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 2 }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), path: fc.nat() }),
  fc.record({
    kind: fc.constant("replace" as const),
    path: fc.nat(),
    value: jsonValue,
  }),
  fc.record({
    kind: fc.constant("copy" as const),
    path: fc.nat(),
    from: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("add-key" as const),
    path: fc.nat(),
    key: fc.string({ minLength: 1, maxLength: 12 }),
    value: jsonValue,
  }),
);

function applyMutations(original: Json, mutations: readonly Mutation[]): Json {
  let document: Json = structuredClone(original);
  for (const change of mutations) {
    const paths = allPaths(document);
    const path = paths[change.path % paths.length];
    if (path.length === 0) {
      if (change.kind === "replace") {
        document = change.value;
      }
      continue;
    }
    const parent = getAt(document, path.slice(0, -1)) as Record<
      string | number,
      Json
    >;
    const key = path[path.length - 1];
    switch (change.kind) {
      case "delete":
        if (Array.isArray(parent)) {
          parent.splice(key as number, 1);
        } else {
          delete parent[key];
        }
        break;
      case "replace":
        parent[key] = change.value;
        break;
      case "copy":
        parent[key] = structuredClone(
          getAt(document, paths[change.from % paths.length]),
        );
        break;
      case "add-key": {
        const target = parent[key];
        if (
          target !== null &&
          typeof target === "object" &&
          !Array.isArray(target)
        ) {
          (target as Record<string, Json>)[change.key] = change.value;
        }
        break;
      }
    }
  }
  return document;
}

/** Parses the text; returns the deployment, or undefined for a ConfigError. Any other exception propagates. */
function parseOrReject(text: string): Deployment | undefined {
  try {
    return parseDeployment(text, "fuzz.yaml", {});
  } catch (error) {
    if (error instanceof ConfigError) {
      expect(error.issues.length).toBeGreaterThan(0);
      return undefined;
    }
    throw error;
  }
}

describe("configuration fuzzing", () => {
  test("mutated full configuration never crashes", () => {
    const original = parse(readFileSync(FULL_CONFIG, "utf8")) as Json;
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (mutations) => {
          if (!parseOrReject(stringify(applyMutations(original, mutations)))) {
            rejected++;
          }
        },
      ),
      { numRuns: 300, seed: 20261204 },
    );
    expect(rejected).toBeGreaterThan(0);
  });

  test("mutated text never crashes", () => {
    const text = readFileSync(FULL_CONFIG, "utf8");
    fc.assert(
      fc.property(
        fc.nat(text.length),
        fc.nat(40),
        fc.string({ maxLength: 6 }),
        (offset, length, insert) => {
          parseOrReject(
            text.slice(0, offset) + insert + text.slice(offset + length),
          );
        },
      ),
      { numRuns: 200, seed: 4122026 },
    );
  });

  test("accepted mutations synthesize", () => {
    const original = parse(readFileSync(DEFAULT_CONFIG, "utf8")) as Json;
    let synthesized = 0;
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 2 }),
        (mutations) => {
          const deployment = parseOrReject(
            stringify(applyMutations(original, mutations)),
          );
          if (deployment && synthesized < 15) {
            synthesized++;
            synthDeployment(deployment).cleanup();
          }
        },
      ),
      { numRuns: 200, seed: 1204 },
    );
    expect(synthesized).toBeGreaterThan(5);
  });
});
