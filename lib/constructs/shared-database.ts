import { Container } from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Password } from "@cdktf/provider-random/lib/password";
import { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import {
  DatabaseClient,
  maxServerConnections,
  PgbouncerConfigOptions,
  renderPgbouncerIni,
  renderUserlist,
} from "../rendering/pgbouncer";
import { passwordVariable, renderInitSql } from "../rendering/postgres-init";
import { renderPostgresConf } from "../rendering/postgres-conf";
import { ContainerImage } from "./container-image";
import {
  HARDENED_CONTAINER,
  HostPortMapping,
  NetworkAttachment,
  toEnv,
  toHealthcheck,
  toNetworksAdvanced,
  toPorts,
} from "./container-defaults";
import type { DatabaseConnection } from "./ignition-gateway";

/** The PostgreSQL server of a {@link SharedDatabase}. */
export interface PostgresOptions {
  /** Name of the Docker container, also its host name. */
  readonly containerName: string;

  /** PostgreSQL image, such as `postgres:17.6-bookworm`; TimescaleDB images work too. */
  readonly image: ContainerImage;

  /**
   * Named volume for the data directory.
   * @default - `<containerName>-data`
   */
  readonly volumeName?: string;

  /**
   * Host port for the server's 5432, bound to 127.0.0.1 unless the mapping says otherwise.
   * @default - not published
   */
  readonly hostPort?: HostPortMapping;

  /**
   * Alias on the network, which PgBouncer connects to.
   * @default "postgres"
   */
  readonly alias?: string;

  /**
   * Fixed address on the network.
   * @default - an address Docker assigns
   */
  readonly ipv4Address?: string;
}

/** The PgBouncer in front of a {@link SharedDatabase}. */
export interface PgbouncerOptions {
  /** Name of the Docker container, also its host name. */
  readonly containerName: string;

  /** PgBouncer image, such as `edoburu/pgbouncer:v1.24.1-p1`. */
  readonly image: ContainerImage;

  /**
   * Alias on the network; clients connect to `<alias>:5432`.
   * @default "pgbouncer"
   */
  readonly alias?: string;

  /**
   * Host port for PgBouncer's 5432, bound to 127.0.0.1 unless the mapping sets another address.
   * @default - not published
   */
  readonly hostPort?: HostPortMapping;

  /**
   * When a server connection returns to the pool: after the client disconnects, or after each transaction.
   * @default "session"
   */
  readonly poolMode?: "session" | "transaction";

  /**
   * Server connections per database.
   * @default 20
   */
  readonly defaultPoolSize?: number;

  /**
   * Fixed address on the network.
   * @default - an address Docker assigns
   */
  readonly ipv4Address?: string;
}

/** Properties of a {@link SharedDatabase}. */
export interface SharedDatabaseProps {
  /** The PostgreSQL server. */
  readonly postgres: PostgresOptions;

  /**
   * PgBouncer in front of the server. Without it, clients connect to PostgreSQL directly.
   * @default - no PgBouncer
   */
  readonly pgbouncer?: PgbouncerOptions;

  /** Network that the server, PgBouncer and the clients share. */
  readonly network: NetworkAttachment;

  /** Databases to create, each owned by a role of the same name with a generated password. */
  readonly databases: string[];

  /**
   * Time zone of the containers, as an IANA name such as `Europe/Berlin`.
   * @default "UTC"
   */
  readonly timezone?: string;

  /**
   * Docker provider of the stack, when it has more than one.
   * @default - the stack's default Docker provider
   */
  readonly provider?: TerraformProvider;
}

const PGBOUNCER_PORT = 5432;
const POSTGRES_PORT = 5432;

/**
 * PostgreSQL with a data volume protected from `destroy`, a tuned
 * configuration and SCRAM authentication; one database and role per client,
 * created by an init container that runs again whenever the list changes and
 * never drops anything; and PgBouncer in front with one pool per database.
 *
 * @example
 * ```ts
 * import { TerraformStack } from "cdktf";
 * import { ContainerImage, SharedDatabase } from "proveit-stacks";
 *
 * // A stack with the Docker and random providers.
 * declare const stack: TerraformStack;
 *
 * const database = new SharedDatabase(stack, "database", {
 *   postgres: { containerName: "plant-postgres", image: ContainerImage.fromRegistry("postgres:17.6-bookworm") },
 *   pgbouncer: {
 *     containerName: "plant-pgbouncer",
 *     image: ContainerImage.fromRegistry("edoburu/pgbouncer:v1.24.1-p1"),
 *     poolMode: "transaction",
 *   },
 *   network: { name: "plant-network" },
 *   databases: ["plant", "historian"],
 * });
 * const connection = database.connectionFor("plant");
 * ```
 */
export class SharedDatabase extends Construct {
  /** The PostgreSQL `docker_container`. */
  public readonly postgres: Container;

  /** The PgBouncer `docker_container`; set when the `pgbouncer` prop is. */
  public readonly pgbouncer?: Container;

  /** The `docker_container` that runs the script creating the databases and roles, then exits. */
  public readonly init: Container;

  /** The `docker_volume` of PostgreSQL's data directory. */
  public readonly volume: Volume;

  /** Host name that clients connect to on the shared network. */
  public readonly host: string;

  /** Port that clients connect to on the shared network. */
  public readonly port: number;

  /** Password of the `postgres` superuser; a sensitive Terraform reference. */
  public readonly superuserPassword: string;
  private readonly passwords = new Map<string, string>();

  constructor(scope: Construct, id: string, props: SharedDatabaseProps) {
    super(scope, id);
    const provider = props.provider;
    const postgresAlias = props.postgres.alias ?? "postgres";
    const network = props.network;

    const superuser = new Password(this, "superuser-password", { length: 32, special: false });
    this.superuserPassword = superuser.result;
    const clients: DatabaseClient[] = props.databases.map((name) => {
      const password = new Password(this, `password-${name}`, { length: 32, special: false });
      this.passwords.set(name, password.result);
      return { name, password: password.result };
    });

    const pgbouncerOptions: PgbouncerConfigOptions = {
      serverHost: postgresAlias,
      serverPort: POSTGRES_PORT,
      listenPort: PGBOUNCER_PORT,
      clients,
      poolMode: props.pgbouncer?.poolMode,
      defaultPoolSize: props.pgbouncer?.defaultPoolSize,
    };

    this.volume = new Volume(this, "data", {
      name: props.postgres.volumeName ?? `${props.postgres.containerName}-data`,
      provider,
      lifecycle: { preventDestroy: true },
    });

    this.postgres = new Container(this, "postgres", {
      ...HARDENED_CONTAINER,
      provider,
      name: props.postgres.containerName,
      image: props.postgres.image.bind(this, provider),
      hostname: props.postgres.containerName,
      env: toEnv({
        POSTGRES_PASSWORD: superuser.result,
        POSTGRES_INITDB_ARGS: "--auth-host=scram-sha-256 --auth-local=scram-sha-256",
        PGDATA: "/var/lib/postgresql/data/pgdata",
        TZ: props.timezone ?? "UTC",
      }),
      command: ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"],
      upload: [
        {
          file: "/etc/postgresql/postgresql.conf",
          content: renderPostgresConf({ maxConnections: maxServerConnections(pgbouncerOptions) + 20 }),
        },
      ],
      networksAdvanced: toNetworksAdvanced([{ ...network, aliases: [postgresAlias], ipv4Address: props.postgres.ipv4Address }]),
      ports: toPorts(props.postgres.hostPort ? [props.postgres.hostPort] : []),
      volumes: [{ volumeName: this.volume.name, containerPath: "/var/lib/postgresql/data" }],
      healthcheck: toHealthcheck({
        test: ["CMD", "pg_isready", "-U", "postgres", "-h", "127.0.0.1"],
        intervalSeconds: 10,
        timeoutSeconds: 5,
        retries: 6,
        startPeriodSeconds: 30,
      }),
      wait: true,
      waitTimeout: 180,
    });

    // The init container exits after running the script; Terraform creates it again, and so
    // runs the script again, whenever the script or a password changes.
    const initEnvironment: Record<string, string> = {
      PGHOST: postgresAlias,
      PGPORT: String(POSTGRES_PORT),
      PGUSER: "postgres",
      PGPASSWORD: superuser.result,
      PGDATABASE: "postgres",
    };
    for (const client of clients) {
      initEnvironment[passwordVariable(client.name)] = client.password;
    }
    this.init = new Container(this, "init", {
      ...HARDENED_CONTAINER,
      provider,
      name: `${props.postgres.containerName}-init`,
      image: props.postgres.image.bind(this, provider),
      restart: "no",
      mustRun: false,
      attach: true,
      logs: true,
      env: toEnv(initEnvironment),
      command: ["psql", "--no-psqlrc", "--file", "/docker-entrypoint-initdb.d/proveit-init.sql"],
      upload: [{ file: "/docker-entrypoint-initdb.d/proveit-init.sql", content: renderInitSql(props.databases) }],
      networksAdvanced: toNetworksAdvanced([network]),
      dependsOn: [this.postgres],
      lifecycle: {
        postcondition: [
          {
            condition: "${self.exit_code == 0}",
            errorMessage: "The database init script failed; its output is in the container's logs (docker logs <name>-init).",
          },
        ],
      },
    });

    this.host = postgresAlias;
    this.port = POSTGRES_PORT;
    if (props.pgbouncer) {
      const alias = props.pgbouncer.alias ?? "pgbouncer";
      this.pgbouncer = new Container(this, "pgbouncer", {
        ...HARDENED_CONTAINER,
        provider,
        name: props.pgbouncer.containerName,
        image: props.pgbouncer.image.bind(this, provider),
        hostname: props.pgbouncer.containerName,
        upload: [
          { file: "/etc/pgbouncer/pgbouncer.ini", content: renderPgbouncerIni(pgbouncerOptions) },
          { file: "/etc/pgbouncer/userlist.txt", content: renderUserlist(clients) },
        ],
        networksAdvanced: toNetworksAdvanced([{ ...network, aliases: [alias], ipv4Address: props.pgbouncer.ipv4Address }]),
        ports: toPorts(props.pgbouncer.hostPort ? [props.pgbouncer.hostPort] : []),
        healthcheck: toHealthcheck({
          test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-p", String(PGBOUNCER_PORT)],
          intervalSeconds: 10,
          timeoutSeconds: 5,
          retries: 6,
          startPeriodSeconds: 10,
        }),
        dependsOn: [this.init],
      });
      this.host = alias;
      this.port = PGBOUNCER_PORT;
    }
  }

  /** Returns the connection of the database `name` through PgBouncer (or directly, without it). */
  public connectionFor(name: string): DatabaseConnection {
    const password = this.passwords.get(name);
    if (password === undefined) {
      throw new Error(`SharedDatabase ${this.node.path} has no database "${name}"; add it to the databases prop.`);
    }
    return { database: name, host: this.host, port: this.port, username: name, password };
  }
}
