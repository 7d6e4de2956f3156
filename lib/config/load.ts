import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Document, isMap, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { ConfigError, ConfigIssue, FieldPath } from "./errors";
import type { Deployment } from "./model";
import { DeploymentResolver } from "./resolve";
import { configSchema, stackConfig } from "./schema";

/** Environment variable that selects the configuration file by path. */
export const CONFIG_ENV = "PROVEIT_CONFIG";

/**
 * Reads, validates and resolves a configuration file. Throws a
 * `ConfigError` that lists every problem when the file is missing, is not
 * YAML, breaks the schema, or breaks a rule that spans fields.
 *
 * @param file path of the YAML file, as it should appear in messages
 */
export function loadDeployment(
  file: string,
  environment: NodeJS.ProcessEnv = process.env,
): Deployment {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "the file does not exist"
        : code === "EISDIR"
          ? "the path is a folder, not a file"
          : (error as Error).message;
    throw new ConfigError(file, [
      {
        path: [],
        message: `cannot read the configuration at ${path.resolve(file)}: ${reason}`,
        fix: `check the path, or unset ${CONFIG_ENV} to use configs/default.yaml`,
      },
    ]);
  }
  return parseDeployment(text, file, environment);
}

/** Validates and resolves configuration text; `file` names it in messages. */
export function parseDeployment(
  text: string,
  file: string,
  environment: NodeJS.ProcessEnv = process.env,
): Deployment {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
  });
  if (document.errors.length > 0) {
    throw new ConfigError(
      file,
      document.errors.map((error) => ({
        path: [],
        position: formatPosition(lineCounter, error.pos[0]),
        message: `the file is not valid YAML: ${error.message.split("\n")[0]}`,
        fix: "correct the YAML syntax at that position",
      })),
    );
  }
  if (!isMap(document.contents)) {
    throw new ConfigError(file, [
      {
        path: [],
        message:
          document.contents === null
            ? "the file is empty"
            : "the file must contain a YAML mapping at the top level",
        fix: "start from configs/default.yaml, which shows every section",
      },
    ]);
  }

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // yaml raises ReferenceError for an alias to an undefined anchor and for excessive aliasing.
    throw new ConfigError(file, [
      {
        path: [],
        message: `the file is not valid YAML: ${(error as Error).message}`,
        fix: "define each anchor (&name) before its aliases (*name), and do not nest aliases to expand the file",
      },
    ]);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const schemaIssues = parsed.error.issues.flatMap((issue) =>
      describeSchemaIssue(issue, data),
    );
    const crossFieldIssues = checkValidParts(
      data as Record<string, unknown>,
      file,
      environment,
    );
    throw new ConfigError(
      file,
      [...schemaIssues, ...crossFieldIssues].map((issue) =>
        locate(issue, document, lineCounter),
      ),
    );
  }

  const { deployment, issues } = new DeploymentResolver(
    parsed.data,
    file,
    environment,
  ).resolve();
  if (!deployment) {
    throw new ConfigError(
      file,
      issues.map((issue) => locate(issue, document, lineCounter)),
    );
  }
  return deployment;
}

/**
 * Runs the cross-field checks on the parts of a schema-invalid file that are
 * valid on their own, so that one run reports port collisions and duplicate
 * names along with type errors. Stacks that break the schema are left out,
 * and so are issues about them. Without a valid core nothing is checked,
 * because every other stack depends on it.
 */
function checkValidParts(
  data: Record<string, unknown>,
  file: string,
  environment: NodeJS.ProcessEnv,
): ConfigIssue[] {
  const shape = configSchema.shape;
  const stacksData = (
    typeof data.stacks === "object" && data.stacks !== null ? data.stacks : {}
  ) as Record<string, unknown>;
  const validStacks: Record<string, unknown> = {};
  const skipped = new Set<string>();
  for (const [id, stack] of Object.entries(stacksData)) {
    if (id in shape.stacks.shape && stackConfig.safeParse(stack).success) {
      validStacks[id] = stack;
    } else {
      skipped.add(id);
    }
  }
  if (!("core" in validStacks)) {
    return [];
  }
  const salvaged: Record<string, unknown> = {
    domain: "example.com",
    stacks: validStacks,
  };
  for (const key of Object.keys(shape) as (keyof typeof shape)[]) {
    if (
      key !== "stacks" &&
      key in data &&
      shape[key].safeParse(data[key]).success
    ) {
      salvaged[key] = data[key];
    }
  }
  const reparsed = configSchema.safeParse(salvaged);
  if (!reparsed.success) {
    return [];
  }
  const { issues } = new DeploymentResolver(
    reparsed.data,
    file,
    environment,
  ).resolve();
  return issues.filter(
    (issue) =>
      !(issue.path[0] === "stacks" && skipped.has(String(issue.path[1]))),
  );
}

/** zod's internal definition of a schema, as far as walking a field path needs it. */
interface SchemaDefinition {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

function definitionOf(schema: z.ZodType): SchemaDefinition {
  return (schema as unknown as { _zod: { def: SchemaDefinition } })._zod.def;
}

/** Unwraps optional and default wrappers and picks the object member of a union. */
function objectSchema(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 10; depth++) {
    const definition = definitionOf(current);
    if (definition.type === "object") {
      return current;
    }
    if (definition.innerType) {
      current = definition.innerType;
    } else if (definition.options) {
      current = definition.options.find(
        (option) => objectSchema(option) !== undefined,
      );
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** Strips optional and default wrappers. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current && definitionOf(current).innerType) {
    current = definitionOf(current).innerType;
  }
  return current;
}

/** Keys the schema allows in the object at `path`; empty when the path leads elsewhere. */
function allowedKeysAt(path: FieldPath): string[] {
  let current: z.ZodType | undefined = configSchema;
  for (const segment of path) {
    const unwrapped = unwrap(current);
    const object = objectSchema(unwrapped);
    const definition = object
      ? definitionOf(object)
      : unwrapped
        ? definitionOf(unwrapped)
        : undefined;
    if (definition?.type === "object") {
      current = definition.shape?.[String(segment)];
    } else if (definition?.type === "record") {
      current = definition.valueType;
    } else if (definition?.type === "array") {
      current = definition.element;
    } else {
      return [];
    }
  }
  const object = objectSchema(unwrap(current));
  return object ? Object.keys(definitionOf(object).shape ?? {}) : [];
}

/** Returns the allowed key closest to a misspelled one, when it is at most two edits away. */
function closestKey(
  key: string,
  allowed: readonly string[],
): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}

/** Levenshtein distance, with a transposition of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = 0; i <= a.length; i++) {
    rows[i][0] = i;
  }
  for (let j = 0; j <= b.length; j++) {
    rows[0][j] = j;
  }
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(
        rows[i - 1][j] + 1,
        rows[i][j - 1] + 1,
        rows[i - 1][j - 1] + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}

function valueAt(
  data: unknown,
  path: FieldPath,
): { found: boolean; value?: unknown } {
  let current: unknown = data;
  for (const segment of path) {
    if (
      current === null ||
      typeof current !== "object" ||
      !(segment in (current as object))
    ) {
      return { found: false };
    }
    current = (current as Record<string | number, unknown>)[segment];
  }
  return { found: true, value: current };
}

function typeName(value: unknown): string {
  if (value === null) {
    return "null";
  }
  return Array.isArray(value)
    ? "list"
    : typeof value === "object"
      ? "mapping"
      : typeof value;
}

/** Turns one zod issue into issues of our own form, with a fix that suits the kind of mistake. */
function describeSchemaIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
): ConfigIssue[] {
  const path = issue.path.filter(
    (segment): segment is string | number => typeof segment !== "symbol",
  );
  const at = valueAt(data, path);
  const withValue = (message: string, fix: string): ConfigIssue =>
    at.found ? { path, message, fix, value: at.value } : { path, message, fix };

  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeysAt(path);
      return issue.keys.map((key) => {
        const suggestion = closestKey(key, allowed);
        return {
          path: [...path, key],
          message: "unknown key",
          fix: suggestion
            ? `did you mean ${suggestion}? Allowed here: ${allowed.join(", ")}`
            : `remove it or correct its spelling; allowed here: ${allowed.join(", ")}`,
          value: valueAt(data, [...path, key]).value,
        };
      });
    }
    case "invalid_type":
      if (!at.found || at.value === undefined) {
        return [
          {
            path,
            message: `a required ${issue.expected} is missing`,
            fix: `add ${String(path[path.length - 1])}`,
          },
        ];
      }
      return [
        withValue(
          `expected ${issue.expected}, got ${typeName(at.value)}`,
          `write a ${issue.expected} here`,
        ),
      ];
    case "invalid_value":
      return [
        withValue(
          `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
          "use one of the listed values",
        ),
      ];
    case "too_small":
    case "too_big":
      return [
        withValue(
          issue.message.replace(
            /^Too (small|big): expected \w+ to (have|be) /,
            "must be ",
          ),
          "use a value within the limit",
        ),
      ];
    case "invalid_union":
      return [
        withValue(
          unionMessage(path),
          "see configs/schema.json for the accepted forms",
        ),
      ];
    case "invalid_format":
      return [withValue(formatMessage(issue), "correct the value")];
    default:
      return [withValue(issue.message, "correct the value")];
  }
}

function unionMessage(path: FieldPath): string {
  const field = String(path[path.length - 1] ?? "");
  if (/port|hostPort|http|https|gan/i.test(field) || path.includes("ports")) {
    return "must be a port number (1 to 65535), or { port, bind } with an IPv4 bind address";
  }
  return "does not match any accepted form";
}

function formatMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== "invalid_format") {
    return issue.message;
  }
  switch (issue.format) {
    case "ipv4":
      return "must be an IPv4 address such as 127.0.0.1";
    case "cidrv4":
      return "must be an IPv4 subnet such as 10.213.2.0/24";
    default:
      return issue.message;
  }
}

function formatPosition(lineCounter: LineCounter, offset: number): string {
  const { line, col } = lineCounter.linePos(offset);
  return `${line}:${col}`;
}

/** Adds the line and column of the issue's field, or of its nearest parent present in the file. */
function locate(
  issue: ConfigIssue,
  document: Document,
  lineCounter: LineCounter,
): ConfigIssue {
  for (let length = issue.path.length; length >= 0; length--) {
    const node = document.getIn(issue.path.slice(0, length), true) as
      { range?: [number, number, number] } | undefined;
    if (node && node.range) {
      return { ...issue, position: formatPosition(lineCounter, node.range[0]) };
    }
  }
  return issue;
}
