import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

/**
 * Checks synthesized Terraform (or any text) for secrets written as
 * literals, and Terraform JSON for variables and outputs that carry a secret
 * without `sensitive = true`. Secrets must reach Terraform only as references
 * (`${random_password.x.result}`, `${var.x}`, data sources), so a literal is
 * always a finding.
 *
 * NOTE: the high-entropy rule is a heuristic. It finds strings of 12 or more
 * characters that mix upper case, lower case and digits, random letters of
 * 20 or more characters, and hex of 32 or more characters. A random string
 * that `-`, `_`, `.` or `:` split into shorter parts, or that has a single
 * letter case, escapes it.
 */

/** Rule that reported a finding. */
export type SecretRule =
  /** `NAME=value` whose name denotes a credential and whose value is not a Terraform reference. */
  | "environment-literal"
  /** A JSON attribute named like a credential (`password`, `tunnel_secret`, ...) with a literal value. */
  | "secret-attribute"
  /** A PEM private key block. */
  | "private-key"
  /** Base64-encoded JSON, the form of Cloudflare tunnel tokens and JWTs (`eyJ...`). */
  | "encoded-token"
  /** A random-looking string. */
  | "high-entropy"
  /** A variable named like a credential or a Cloudflare id without `sensitive: true`. */
  | "insensitive-variable"
  /** An output that carries a secret without `sensitive: true`. */
  | "insensitive-output";

export interface SecretFinding {
  readonly file: string;
  /** JSON path such as `resource.docker_container.x.env[0]`, or `line 12` in a text file. */
  readonly location: string;
  readonly rule: SecretRule;
  /** Description of the finding, with the suspected secret masked. */
  readonly detail: string;
}

/** Names of environment variables and variables that hold credentials. */
const SECRET_NAME =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;

/** Variable names that must be sensitive besides credentials: the deployment's Cloudflare ids. */
const SENSITIVE_VARIABLE =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCOUNT_ID|ZONE_ID)/i;

/** A `_FILE` variable names a file that contains the secret (the Docker secrets convention), not the secret. */
const FILE_REFERENCE_NAME = /_FILE$/i;

const ENVIRONMENT_ENTRY = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;
const ENCODED_JSON = /eyJ[A-Za-z0-9+/_-]{16,}/;
const CANDIDATE = /[A-Za-z0-9+/=_.:-]{12,}/g;

/** Terraform expressions whose value is a secret. */
const SECRET_SOURCES = [
  /\brandom_password\.[\w-]+\.(?:result|bcrypt_hash)\b/,
  /\brandom_bytes\.[\w-]+\.(?:base64|hex)\b/,
  /\bdata\.cloudflare_zero_trust_tunnel_cloudflared_token\.[\w-]+\.token\b/,
  /\.tunnel_secret\b/,
  /\bsensitive\(/,
  // Outputs of other stacks that cdktf passes across stacks are sensitive there.
  /\bdata\.terraform_remote_state\.[\w-]+\.outputs\b/,
];

/** Scans every file below a folder, such as `cdktf.out`. */
export function scanDirectory(directory: string): SecretFinding[] {
  return listFiles(directory).flatMap((file) =>
    scanFile(file, readFileSync(file, "utf8")),
  );
}

/** Scans one file's text; Terraform JSON also gets the variable and output checks. */
export function scanFile(file: string, text: string): SecretFinding[] {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return scanText(file, text);
  }
  return [
    ...scanJsonValues(file, document),
    ...checkSensitivity(file, document),
  ];
}

/** Scans plain text line by line. */
export function scanText(file: string, text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  text.split("\n").forEach((line, index) => {
    findings.push(...scanString(file, `line ${index + 1}`, line));
  });
  return findings;
}

/** Renders findings one per line, for a command line or a failed test. */
export function formatFindings(findings: readonly SecretFinding[]): string {
  return findings
    .map(
      (finding) =>
        `${finding.file} ${finding.location}: ${finding.rule}: ${finding.detail}`,
    )
    .join("\n");
}

/** Checks that every variable and output of a Terraform JSON document that carries a secret is sensitive. */
export function checkSensitivity(
  file: string,
  document: unknown,
): SecretFinding[] {
  if (!isObject(document)) {
    return [];
  }
  const findings: SecretFinding[] = [];
  const sensitiveVariables: string[] = [];
  for (const [name, variable] of Object.entries(
    objectAt(document, "variable"),
  )) {
    if (isObject(variable) && variable.sensitive === true) {
      sensitiveVariables.push(name);
    } else if (SENSITIVE_VARIABLE.test(name)) {
      findings.push({
        file,
        location: `variable.${name}`,
        rule: "insensitive-variable",
        detail: `variable ${name} is not marked sensitive`,
      });
    }
    if (
      isObject(variable) &&
      SECRET_NAME.test(name) &&
      typeof variable.default === "string" &&
      variable.default !== ""
    ) {
      findings.push({
        file,
        location: `variable.${name}.default`,
        rule: "secret-attribute",
        detail: `default ${mask(variable.default)}`,
      });
    }
  }

  const variableReference =
    sensitiveVariables.length > 0
      ? new RegExp(
          `\\bvar\\.(?:${sensitiveVariables.map(escapeRegExp).join("|")})\\b`,
        )
      : undefined;
  for (const [name, output] of Object.entries(objectAt(document, "output"))) {
    if (!isObject(output) || output.sensitive === true) {
      continue;
    }
    const expression = JSON.stringify(output.value ?? null);
    const source =
      SECRET_SOURCES.find((pattern) => pattern.test(expression)) ??
      (variableReference?.test(expression) ? variableReference : undefined);
    if (source || SECRET_NAME.test(name)) {
      findings.push({
        file,
        location: `output.${name}`,
        rule: "insensitive-output",
        detail: source
          ? `output ${name} carries ${expression.match(source)?.[0]} but is not marked sensitive`
          : `output ${name} is named like a secret but is not marked sensitive`,
      });
    }
  }
  return findings;
}

function scanJsonValues(
  file: string,
  value: unknown,
  location = "",
  key = "",
): SecretFinding[] {
  if (typeof value === "string") {
    const lines = value.split("\n");
    const findings =
      lines.length === 1
        ? scanString(file, location, value)
        : lines.flatMap((line, index) =>
            scanString(file, `${location} line ${index + 1}`, line),
          );
    const literal = stripReferences(value).trim();
    if (key !== "" && isSecretAttribute(key) && literal !== "") {
      findings.push({
        file,
        location,
        rule: "secret-attribute",
        detail: `${key} = ${mask(literal)}`,
      });
    }
    return findings;
  }
  if (Array.isArray(value)) {
    return value.flatMap((item, index) =>
      scanJsonValues(file, item, `${location}[${index}]`, key),
    );
  }
  if (isObject(value)) {
    return Object.entries(value).flatMap(([name, item]) =>
      // "//" contains cdktf's metadata (construct paths and logical ids), and depends_on contains resource addresses.
      name === "//" || name === "depends_on"
        ? []
        : scanJsonValues(
            file,
            item,
            location === "" ? name : `${location}.${name}`,
            name,
          ),
    );
  }
  return [];
}

function scanString(
  file: string,
  location: string,
  value: string,
): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const literal = stripReferences(value);

  const entry = ENVIRONMENT_ENTRY.exec(value);
  if (
    entry &&
    SECRET_NAME.test(entry[1]) &&
    !FILE_REFERENCE_NAME.test(entry[1])
  ) {
    const assigned = stripReferences(entry[2]).trim();
    if (assigned !== "") {
      findings.push({
        file,
        location,
        rule: "environment-literal",
        detail: `${entry[1]}=${mask(assigned)}`,
      });
    }
  }
  if (PRIVATE_KEY.test(literal)) {
    findings.push({
      file,
      location,
      rule: "private-key",
      detail: "a PEM private key block",
    });
  }
  const encoded = ENCODED_JSON.exec(literal);
  if (encoded) {
    findings.push({
      file,
      location,
      rule: "encoded-token",
      detail: `base64-encoded JSON ${mask(encoded[0])}`,
    });
  }
  for (const candidate of literal.matchAll(CANDIDATE)) {
    const random = findRandomPart(candidate[0]);
    if (random && !(encoded && encoded[0].includes(random))) {
      findings.push({
        file,
        location,
        rule: "high-entropy",
        detail: `random-looking string ${mask(random)}`,
      });
    }
  }
  return findings;
}

/**
 * Returns the first part of a token that looks random. The token is split at
 * the separators of identifiers and host names. A part that is not a whole
 * base64 string is split again at `/`, `+` and `=`, so that a path such as
 * `8088/StatusPing` is judged by its segments.
 */
function findRandomPart(token: string): string | undefined {
  const parts = token.split(/[-_.:]/);
  for (let index = 0; index < parts.length; index++) {
    // An image digest (`sha256:<hex>`) is a content hash, not a secret.
    if (/^sha(?:256|512)$/.test(parts[index - 1] ?? "")) {
      continue;
    }
    const part = parts[index];
    if (
      /^[A-Za-z0-9+/]{20,}={0,2}$/.test(part) &&
      looksRandom(part.replace(/=+$/, ""))
    ) {
      return part;
    }
    const random = part.split(/[/+=]/).find(looksRandom);
    if (random) {
      return random;
    }
  }
  return undefined;
}

/**
 * Returns whether a string looks generated: hex of 32 or more characters, or
 * a mix of upper and lower case letters whose entropy is close to that of
 * random text. Words in camel case stay below 4.1 bits per character (3.8 to
 * 3.9 for names such as `ZeroTrustTunnelCloudflaredConfig`).
 */
function looksRandom(text: string): boolean {
  if (/^[0-9a-f]{32,}$/i.test(text)) {
    return (
      /[0-9]/.test(text) && /[a-f]/i.test(text) && shannonEntropy(text) >= 3
    );
  }
  if (!/[A-Z]/.test(text) || !/[a-z]/.test(text)) {
    return false;
  }
  if (/[0-9]/.test(text)) {
    return text.length >= 12 && shannonEntropy(text) >= 3;
  }
  return text.length >= 20 && shannonEntropy(text) >= 4.1;
}

/** Shannon entropy of a string, in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const character of text) {
    counts.set(character, (counts.get(character) ?? 0) + 1);
  }
  let entropy = 0;
  for (const count of counts.values()) {
    const probability = count / text.length;
    entropy -= probability * Math.log2(probability);
  }
  return entropy;
}

/**
 * Removes Terraform template sequences (`${...}` and `%{...}`, nested braces
 * included) and keeps the literal text around them. `$${` and `%%{` are
 * escapes for literal text.
 */
export function stripReferences(text: string): string {
  let result = "";
  let index = 0;
  while (index < text.length) {
    const pair = text.slice(index, index + 2);
    const escaped =
      text.slice(index, index + 3) === "$${" ||
      text.slice(index, index + 3) === "%%{";
    if (escaped) {
      result += text.slice(index + 1, index + 3);
      index += 3;
      continue;
    }
    if (pair !== "${" && pair !== "%{") {
      result += text[index];
      index += 1;
      continue;
    }
    let depth = 0;
    let end = index + 1;
    for (; end < text.length; end++) {
      if (text[end] === "{") {
        depth += 1;
      } else if (text[end] === "}") {
        depth -= 1;
        if (depth === 0) {
          break;
        }
      }
    }
    result += " ";
    index = end + 1;
  }
  return result;
}

function isSecretAttribute(key: string): boolean {
  return /(?:^|_)(?:password|passwd|secret|token|api_?key|api_token|private_key)(?:$|_)/i.test(
    key,
  );
}

/** Describes a suspected secret by its length only, so that reports and logs never contain it. */
function mask(value: string): string {
  return `(${value.length} characters, masked)`;
}

function listFiles(directory: string): string[] {
  return readdirSync(directory)
    .sort()
    .flatMap((name) => {
      const file = path.join(directory, name);
      return statSync(file).isDirectory() ? listFiles(file) : [file];
    });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objectAt(
  document: Record<string, unknown>,
  key: string,
): Record<string, unknown> {
  const value = document[key];
  return isObject(value) ? value : {};
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
