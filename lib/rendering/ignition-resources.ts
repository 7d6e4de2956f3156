/**
 * Renders the Ignition 8.3 configuration resources that a gateway container
 * is seeded with, and the entrypoint script that seeds them.
 *
 * Ignition 8.3 keeps its configuration as resource folders under
 * `data/config/resources/<collection>/<module>/<type>/<name>/`, each with a
 * `config.json` and a `resource.json`. The `external` collection is loaded
 * first, is read-only in the gateway's web interface and is never written by
 * the gateway. An operator's change to one of its resources is saved as an
 * override in the `core` collection. So the deployment owns `external` and
 * rewrites it on every start, and never touches `core`.
 */
import { createHash } from "node:crypto";

/** Folder in the container where seeded files wait until the entrypoint copies them. */
export const SEED_DIRECTORY = "/usr/local/share/proveit/external";

/** Path of the entrypoint script inside the container. */
export const SEED_ENTRYPOINT = "/usr/local/share/proveit/gateway-entrypoint.sh";

/**
 * Placeholder in seeded files that the entrypoint replaces with the value of
 * the `PROVEIT_DB_PASSWORD` environment variable, so that the password is in
 * no uploaded file and in no synthesized Terraform value.
 */
export const PASSWORD_PLACEHOLDER = "@@PROVEIT_DB_PASSWORD@@";

/** Environment variable that carries the database password to the entrypoint. */
export const PASSWORD_VARIABLE = "PROVEIT_DB_PASSWORD";

/** Name of the bundled PostgreSQL JDBC driver and of its translator in Ignition 8.3. */
export const POSTGRES_DRIVER = "PostgreSQL";
export const POSTGRES_TRANSLATOR = "POSTGRES";

/** A file to write into the gateway's external collection, relative to it. */
export interface SeedFile {
  readonly path: string;
  readonly content: string;
}

export interface DatabaseConnectionResource {
  /** Connection name in the gateway. */
  readonly name: string;
  /** JDBC URL without credentials, such as `jdbc:postgresql://pgbouncer:5432/core_ignition`. */
  readonly connectUrl: string;
  readonly username: string;
  /**
   * Connections the gateway keeps open at most; PgBouncer's pool for the
   * database must be at least this large in session pooling.
   * @default 8
   */
  readonly maxActive?: number;
}

/** Derives a UUID (version 5 layout) from a name, so the synthesized files do not change between runs. */
export function stableUuid(name: string): string {
  const hex = createHash("sha1").update(`proveit-stacks:${name}`).digest("hex");
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(
    16,
  );
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `5${hex.slice(13, 16)}`,
    `${variant}${hex.slice(18, 20)}`,
    hex.slice(20, 32),
  ].join("-");
}

function resourceJson(uuid: string, description: string): string {
  const resource = {
    scope: "A",
    description,
    version: 1,
    restricted: false,
    overridable: true,
    files: ["config.json"],
    attributes: {
      uuid,
      enabled: true,
      // A fixed time keeps the file identical on every synthesis; the gateway reads it as metadata only.
      lastModification: {
        actor: "proveit-stacks",
        timestamp: "2025-01-01T00:00:00Z",
      },
    },
  };
  return JSON.stringify(resource, null, 2) + "\n";
}

/**
 * Renders a database connection resource. The password travels as the
 * `password` parameter of the JDBC URL, because Ignition 8.3 stores the
 * `password` field as a secret encrypted with the gateway's own key, which
 * Terraform cannot produce. The PostgreSQL JDBC driver takes URL parameters
 * over the properties the gateway passes.
 */
export function renderDatabaseConnection(
  connection: DatabaseConnectionResource,
): SeedFile[] {
  const directory = `ignition/database-connection/${connection.name}`;
  const config = {
    driver: POSTGRES_DRIVER,
    translator: POSTGRES_TRANSLATOR,
    includeSchemaInTableName: false,
    connectURL: `${connection.connectUrl}?password=${PASSWORD_PLACEHOLDER}&ApplicationName=ignition`,
    username: connection.username,
    connectionProps: "",
    connectionResetParams: "",
    defaultTransactionLevel: "DEFAULT",
    poolInitSize: 0,
    poolMaxActive: connection.maxActive ?? 8,
    poolMaxIdle: connection.maxActive ?? 8,
    poolMinIdle: 0,
    poolMaxWait: 5000,
    validationQuery: "SELECT 1",
    testOnBorrow: true,
    testOnReturn: false,
    testWhileIdle: false,
    evictionRate: -1,
    evictionTests: 3,
    evictionTime: 1800000,
    failoverProfile: "",
    failoverMode: "STANDARD",
    slowQueryLogThreshold: 60000,
    validationSleepTime: 10000,
  };
  return [
    {
      path: `${directory}/config.json`,
      content: JSON.stringify(config, null, 2) + "\n",
    },
    {
      path: `${directory}/resource.json`,
      content: resourceJson(
        stableUuid(`database-connection:${connection.name}`),
        "Shared PostgreSQL through PgBouncer, managed by proveit-stacks",
      ),
    },
  ];
}

/**
 * Renders the entrypoint that copies the seeded files into the external
 * collection (replacing the password placeholder), then starts the image's
 * own entrypoint with the container's arguments.
 */
export function renderSeedEntrypoint(): string {
  return `#!/usr/bin/env bash
# Generated by proveit-stacks. Copies the deployment's configuration resources
# into the gateway's external collection, then starts the image's entrypoint.
set -euo pipefail
# Bash 5.2 reads '&' in a substitution's replacement as the match; the password must stay literal.
shopt -u patsub_replacement 2>/dev/null || true

data_dir="\${IGNITION_INSTALL_LOCATION:-/usr/local/bin/ignition}/data"
seed_dir="\${PROVEIT_SEED_DIR:-${SEED_DIRECTORY}}"
target_dir="\${data_dir}/config/resources/external"

if [ -d "\${seed_dir}" ]; then
  while IFS= read -r -d '' source_file; do
    relative_path="\${source_file#"\${seed_dir}"/}"
    target_file="\${target_dir}/\${relative_path}"
    mkdir -p "$(dirname "\${target_file}")"
    content="$(cat "\${source_file}")"
    content="\${content//${PASSWORD_PLACEHOLDER}/\${${PASSWORD_VARIABLE}:-}}"
    printf '%s\\n' "\${content}" > "\${target_file}.tmp"
    mv "\${target_file}.tmp" "\${target_file}"
  done < <(find "\${seed_dir}" -type f -print0)
  # Started as root, hand the files to the owner of the data directory, which the gateway runs as.
  if [ "$(id -u)" = "0" ]; then
    chown -R "$(stat -c '%u:%g' "\${data_dir}")" "\${target_dir}"
  fi
  echo "proveit: seeded $(find "\${seed_dir}" -type f | wc -l) files into \${target_dir}"
fi

exec "\${IGNITION_DOCKER_ENTRYPOINT:-/usr/local/bin/docker-entrypoint.sh}" "$@"
`;
}

/**
 * Renders a healthcheck that requests the gateway's `/StatusPing` and
 * succeeds only when the response reports `RUNNING`. It needs nothing but bash (the
 * image's entrypoint is a bash script), so it does not depend on curl being
 * in the image.
 */
export function renderStatusPingCheck(port: number): string {
  return [
    `exec 3<>/dev/tcp/127.0.0.1/${port}`,
    "printf 'GET /StatusPing HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3",
    "grep -q '\"RUNNING\"' <&3",
  ].join(" && ");
}
