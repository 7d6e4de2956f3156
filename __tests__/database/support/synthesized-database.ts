/**
 * Reads the database parts of a synthesized stack: the PostgreSQL, init and
 * PgBouncer containers of each SharedDatabase, with the files uploaded into
 * them and the environment they get, and replaces Terraform references to
 * generated passwords with test passwords.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT, resourcesOfType, StackJson } from "../../support/synth";

/** Lists every shipped configuration file, as absolute paths. */
export function shippedConfigs(): string[] {
  const directory = path.join(PROJECT_ROOT, "configs");
  return readdirSync(directory)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => path.join(directory, file));
}

/** The containers of one SharedDatabase, found by their construct path. */
export interface SynthesizedDatabase {
  /** Construct path of the SharedDatabase, such as `core/database-postgres`. */
  readonly path: string;
  readonly postgres: StackJson;
  readonly init: StackJson;
  readonly pgbouncer?: StackJson;
}

function constructPath(resource: StackJson): string {
  return resource["//"]?.metadata?.path ?? "";
}

/** Finds every SharedDatabase of a stack: a container ending in `/postgres` with siblings `/init` and maybe `/pgbouncer`. */
export function databasesOf(stack: StackJson): SynthesizedDatabase[] {
  const containers = Object.values(resourcesOfType(stack, "docker_container"));
  const byPath = new Map(
    containers.map((container) => [constructPath(container), container]),
  );
  return containers
    .filter(
      (container) =>
        constructPath(container).endsWith("/postgres") &&
        byPath.has(constructPath(container).replace(/\/postgres$/, "/init")),
    )
    .map((postgres) => {
      const base = constructPath(postgres).replace(/\/postgres$/, "");
      return {
        path: base,
        postgres,
        init: byPath.get(`${base}/init`)!,
        pgbouncer: byPath.get(`${base}/pgbouncer`),
      };
    });
}

/** Content of the file uploaded to `file` in a container. */
export function uploadedFile(container: StackJson, file: string): string {
  const upload = (container.upload ?? []).find(
    (entry: StackJson) => entry.file === file,
  );
  if (!upload) {
    throw new Error(`Container ${container.name} has no upload ${file}`);
  }
  return upload.content;
}

/** Content of the one uploaded file whose path ends with `suffix`. */
export function uploadedFileEndingWith(
  container: StackJson,
  suffix: string,
): string {
  const uploads = (container.upload ?? []).filter((entry: StackJson) =>
    String(entry.file).endsWith(suffix),
  );
  if (uploads.length !== 1) {
    throw new Error(
      `Container ${container.name} has ${uploads.length} uploads ending with ${suffix}`,
    );
  }
  return uploads[0].content;
}

/** Returns a container's environment as a map. */
export function environmentOf(container: StackJson): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    const separator = String(entry).indexOf("=");
    environment[String(entry).slice(0, separator)] = String(entry).slice(
      separator + 1,
    );
  }
  return environment;
}

const PASSWORD_REFERENCE = /\$\{random_password\.[A-Za-z0-9_-]+\.result\}/g;

/**
 * Test passwords for the Terraform references to generated passwords. The
 * same reference always gets the same password, across every synthesis of a
 * test file, as Terraform keeps a generated password once it exists.
 */
export class TestPasswords {
  private readonly passwords = new Map<string, string>();

  /** Returns the test password for a reference such as `${random_password.x.result}`. */
  public passwordFor(reference: string): string {
    let password = this.passwords.get(reference);
    if (password === undefined) {
      password = randomBytes(24)
        .toString("base64")
        .replace(/[^A-Za-z0-9]/g, "")
        .slice(0, 32)
        .padEnd(32, "x");
      this.passwords.set(reference, password);
    }
    return password;
  }

  /** Replaces every password reference in a text; throws when another Terraform reference is left. */
  public substitute(text: string): string {
    const result = text.replace(PASSWORD_REFERENCE, (reference) =>
      this.passwordFor(reference),
    );
    const left = /\$\{[^}]*\}/.exec(result);
    if (left) {
      throw new Error(
        `Unexpected Terraform reference ${left[0]} in a file the test runs`,
      );
    }
    return result;
  }

  public substituteAll(
    environment: Record<string, string>,
  ): Record<string, string> {
    return Object.fromEntries(
      Object.entries(environment).map(([name, value]) => [
        name,
        this.substitute(value),
      ]),
    );
  }
}

/** A client role of a database: name and test password, read from the synthesized user list. */
export interface ClientRole {
  readonly name: string;
  readonly password: string;
}

/** Parses a substituted `userlist.txt`. */
export function rolesOf(userlist: string): ClientRole[] {
  return userlist
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const match = /^"([^"]+)" "((?:[^"]|"")*)"$/.exec(line);
      if (!match) {
        throw new Error(`Unexpected user list line: ${line}`);
      }
      return { name: match[1], password: match[2].replace(/""/g, '"') };
    });
}
