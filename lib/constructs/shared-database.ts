import { Container } from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Password } from "@cdktf/provider-random/lib/password";
import {
  dependable,
  TerraformLocal,
  TerraformOutput,
  TerraformProvider,
  Token,
} from "cdktf";
import { Construct } from "constructs";
import {
  DatabaseClient,
  PGBOUNCER_STATS_USER,
  planPools,
  PoolMode,
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
import { DatabaseConnection } from "./database-connection";

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
   * Host port for the server's 5432, bound to 127.0.0.1 unless the mapping sets another address.
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

  /** PgBouncer image, such as `edoburu/pgbouncer:v1.25.2-p0`. */
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
   * `session` keeps JDBC's named prepared statements working with every PgBouncer version;
   * `transaction` needs PgBouncer 1.21 or later.
   * @default "session"
   */
  readonly poolMode?: PoolMode;

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

  /**
   * Add the `pgbouncer_stats` user, with a generated password, who may run SHOW commands
   * on PgBouncer's console, for a Prometheus exporter.
   * @default false
   */
  readonly statsUser?: boolean;
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
  readonly databases: readonly string[];

  /**
   * Time zone of the server, a tz database name.
   * @default "UTC"
   */
  readonly timezone?: string;

  /**
   * Extensions whose libraries the server preloads and that the init script creates in every
   * database, such as `timescaledb`.
   * @default - none
   */
  readonly extensions?: readonly string[];

  /**
   * Docker provider of the stack, when it has more than one.
   * @default - the stack's default Docker provider
   */
  readonly provider?: TerraformProvider;
}

const SERVER_PORT = 5432;
const DATA_PATH = "/var/lib/postgresql/data";
const CONFIG_FILE = "/etc/postgresql/postgresql.conf";
const INIT_SCRIPT = "/usr/local/share/proveit/init-databases.sql";
const PGBOUNCER_DIR = "/etc/pgbouncer";
/** Size of `/dev/shm`, in MB; Docker's 64 MB default is too small for parallel queries. */
const SHARED_MEMORY_MB = 256;

/** Returns a healthcheck test that asks the server on this container's port whether it accepts connections. */
function pgIsReadyTest(user?: string): string[] {
  const userArguments = user ? ["-U", user] : [];
  return [
    "CMD",
    "pg_isready",
    ...userArguments,
    "-h",
    "127.0.0.1",
    "-p",
    String(SERVER_PORT),
  ];
}

/**
 * PostgreSQL with a data volume protected from `destroy`, a tuned
 * configuration and SCRAM authentication, and PgBouncer in front with one
 * pool per database. Each client gets a database and a role, created by an
 * init container that runs again whenever the script, a password or the
 * server changes, and that never drops anything.
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
 *     image: ContainerImage.fromRegistry("edoburu/pgbouncer:v1.25.2-p0"),
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

  /** One-shot container that creates the databases and roles, and updates their passwords. */
  public readonly init: Container;

  /** The `docker_volume` of PostgreSQL's data directory. */
  public readonly volume: Volume;

  /** Host name that clients connect to on the shared network: PgBouncer's alias, or the server's without PgBouncer. */
  public readonly host: string;

  /** Port that clients connect to on the shared network. */
  public readonly port: number;

  /** Password of the `postgres` superuser; a sensitive Terraform reference. */
  public readonly superuserPassword: string;

  /** Password of PgBouncer's `pgbouncer_stats` user; set when the `statsUser` option is. */
  public readonly pgbouncerStatsPassword?: string;

  private readonly connections = new Map<string, DatabaseConnection>();

  constructor(scope: Construct, id: string, props: SharedDatabaseProps) {
    super(scope, id);
    const provider = props.provider;
    const postgresAlias = props.postgres.alias ?? "postgres";
    const plan = planPools(
      props.databases.length,
      props.pgbouncer?.defaultPoolSize,
    );

    const superuser = new Password(this, "superuser-password", {
      length: 32,
      special: false,
    });
    this.superuserPassword = superuser.result;
    const clients: DatabaseClient[] = props.databases.map((name) => {
      const password = new Password(this, `password-${name}`, {
        length: 32,
        special: false,
      });
      return { name, password: password.result };
    });
    // Rendering validates every name, so a bad one fails synthesis here instead of the deploy.
    const initSql = renderInitSql(props.databases, props.extensions ?? []);

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
        POSTGRES_INITDB_ARGS:
          "--auth-host=scram-sha-256 --auth-local=scram-sha-256",
        POSTGRES_HOST_AUTH_METHOD: "scram-sha-256",
        PGDATA: `${DATA_PATH}/pgdata`,
        TZ: props.timezone ?? "UTC",
      }),
      command: ["postgres", "-c", `config_file=${CONFIG_FILE}`],
      upload: [
        {
          file: CONFIG_FILE,
          content: renderPostgresConf({
            maxConnections: plan.postgresMaxConnections,
            timezone: props.timezone,
            sharedPreloadLibraries: props.extensions,
          }),
        },
      ],
      networksAdvanced: toNetworksAdvanced([
        {
          ...props.network,
          aliases: [postgresAlias],
          ipv4Address: props.postgres.ipv4Address,
        },
      ]),
      ports: toPorts(props.postgres.hostPort ? [props.postgres.hostPort] : []),
      volumes: [{ volumeName: this.volume.name, containerPath: DATA_PATH }],
      shmSize: SHARED_MEMORY_MB,
      // A clean shutdown writes a checkpoint; without a grace period the provider removes the container with SIGKILL.
      stopTimeout: 60,
      destroyGraceSeconds: 60,
      // The first start runs initdb on a temporary server that listens on the Unix socket only,
      // so a TCP probe succeeds once the real server is up.
      healthcheck: toHealthcheck({
        test: pgIsReadyTest("postgres"),
        intervalSeconds: 10,
        timeoutSeconds: 5,
        retries: 6,
        startPeriodSeconds: 30,
      }),
      wait: true,
      waitTimeout: 180,
    });

    this.init = this.createInit(
      props,
      postgresAlias,
      superuser.result,
      clients,
      initSql,
    );

    this.host = postgresAlias;
    this.port = SERVER_PORT;
    if (props.pgbouncer) {
      if (props.pgbouncer.statsUser) {
        // Letters and digits only, so the password needs no escaping in the exporter's connection URL.
        this.pgbouncerStatsPassword = new Password(
          this,
          "pgbouncer-stats-password",
          { length: 32, special: false },
        ).result;
      }
      this.pgbouncer = this.createPgbouncer(
        props,
        props.pgbouncer,
        postgresAlias,
        clients,
        this.pgbouncerStatsPassword,
      );
      this.host = props.pgbouncer.alias ?? "pgbouncer";
    }

    this.createConnections(clients);
  }

  /**
   * Returns the connection of the database `name`: host, port, database and
   * role as references to this stack's resources, so that a client in
   * another stack gets them through cross-stack references.
   */
  public connectionFor(name: string): DatabaseConnection {
    const connection = this.connections.get(name);
    if (connection === undefined) {
      const known = [...this.connections.keys()].join(", ") || "none";
      throw new Error(
        `SharedDatabase ${this.node.path} has no database "${name}" (it has: ${known}); add it to the databases prop.`,
      );
    }
    return connection;
  }

  /** Names of the databases this server holds, in the order they were given. */
  public get databaseNames(): string[] {
    return [...this.connections.keys()];
  }

  /**
   * Creates the container that runs the idempotent script with psql and
   * exits. The script's text and the passwords are part of the container's
   * configuration, so Terraform replaces the container (and runs the script
   * again) when any of them changes. Replacing the server runs it too.
   */
  private createInit(
    props: SharedDatabaseProps,
    postgresAlias: string,
    superuserPassword: string,
    clients: readonly DatabaseClient[],
    initSql: string,
  ): Container {
    const environment: Record<string, string> = {
      PGHOST: postgresAlias,
      PGPORT: String(SERVER_PORT),
      PGUSER: "postgres",
      PGPASSWORD: superuserPassword,
      PGDATABASE: "postgres",
      PGCONNECT_TIMEOUT: "10",
      PGAPPNAME: "proveit-init",
    };
    for (const client of clients) {
      environment[passwordVariable(client.name)] = client.password;
    }
    const name = `${props.postgres.containerName}-init`;
    return new Container(this, "init", {
      ...HARDENED_CONTAINER,
      provider: props.provider,
      name,
      image: props.postgres.image.bind(this, props.provider),
      // attach waits for the container to exit. must_run false keeps the exited container in
      // the state, where the provider records its exit_code for the postcondition below.
      restart: "no",
      mustRun: false,
      attach: true,
      logs: true,
      env: toEnv(environment),
      command: [
        "psql",
        "--no-psqlrc",
        "--set",
        "ON_ERROR_STOP=1",
        "--file",
        INIT_SCRIPT,
      ],
      upload: [{ file: INIT_SCRIPT, content: initSql }],
      networksAdvanced: toNetworksAdvanced([props.network]),
      dependsOn: [this.postgres],
      lifecycle: {
        replaceTriggeredBy: [dependable(this.postgres)],
        postcondition: [
          {
            condition: "${self.exit_code == 0}",
            errorMessage: `The database init script in container ${name} failed; read its output with "docker logs ${name}", fix the cause, then apply again with -replace on this container.`,
          },
        ],
      },
    });
  }

  private createPgbouncer(
    props: SharedDatabaseProps,
    options: PgbouncerOptions,
    postgresAlias: string,
    clients: readonly DatabaseClient[],
    statsPassword: string | undefined,
  ): Container {
    const alias = options.alias ?? "pgbouncer";
    const statsUsers =
      statsPassword === undefined
        ? []
        : [{ name: PGBOUNCER_STATS_USER, password: statsPassword }];
    return new Container(this, "pgbouncer", {
      ...HARDENED_CONTAINER,
      provider: props.provider,
      name: options.containerName,
      image: options.image.bind(this, props.provider),
      hostname: options.containerName,
      // The image's entrypoint writes its own configuration only when these files are missing.
      upload: [
        {
          file: `${PGBOUNCER_DIR}/pgbouncer.ini`,
          content: renderPgbouncerIni({
            serverHost: postgresAlias,
            serverPort: SERVER_PORT,
            listenPort: SERVER_PORT,
            clients,
            poolMode: options.poolMode,
            poolSize: options.defaultPoolSize,
            authFile: `${PGBOUNCER_DIR}/userlist.txt`,
            statsUsers: statsUsers.map((user) => user.name),
          }),
        },
        {
          file: `${PGBOUNCER_DIR}/userlist.txt`,
          content: renderUserlist([...clients, ...statsUsers]),
        },
      ],
      networksAdvanced: toNetworksAdvanced([
        {
          ...props.network,
          aliases: [alias],
          ipv4Address: options.ipv4Address,
        },
      ]),
      ports: toPorts(options.hostPort ? [options.hostPort] : []),
      destroyGraceSeconds: 30,
      // pg_isready (PostgreSQL's client tools are in the image) counts PgBouncer's error for an
      // unknown database as a response, so the check needs no password.
      healthcheck: toHealthcheck({
        test: pgIsReadyTest(),
        intervalSeconds: 10,
        timeoutSeconds: 5,
        retries: 6,
        startPeriodSeconds: 10,
      }),
      wait: true,
      waitTimeout: 120,
      dependsOn: [this.init],
    });
  }

  /**
   * Records each client's connection. Host and port are Terraform locals, so
   * they reach other stacks as references to this stack, like the password.
   * Database and role are the client's name, known at synth. A
   * `terraform_data` resource would not do, because cdktf validates each one
   * by running `terraform version` at synth, a process each, which fails
   * where Terraform is not installed.
   */
  private createConnections(clients: readonly DatabaseClient[]): void {
    const host = new TerraformLocal(this, "connection-host", this.host)
      .asString;
    const port = new TerraformLocal(this, "connection-port", this.port)
      .asNumber;
    for (const client of clients) {
      const connection: DatabaseConnection = {
        host,
        port,
        database: client.name,
        username: client.name,
        password: client.password,
      };
      this.connections.set(client.name, connection);

      const connectionOutput = new TerraformOutput(
        this,
        `${client.name}-connection`,
        {
          description: `Host, port, database and role of ${client.name}`,
          value: {
            host: connection.host,
            port: Token.asString(connection.port),
            database: connection.database,
            username: connection.username,
          },
        },
      );
      connectionOutput.overrideLogicalId(`${client.name}_database`);
      const passwordOutput = new TerraformOutput(
        this,
        `${client.name}-password`,
        {
          description: `Password of the role ${client.name}`,
          value: client.password,
          sensitive: true,
        },
      );
      passwordOutput.overrideLogicalId(`${client.name}_database_password`);
    }
  }
}
