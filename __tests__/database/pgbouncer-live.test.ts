/**
 * Runs the synthesized database setup of every shipped configuration
 * against real PostgreSQL 15 and PgBouncer 1.18 (Debian 12's packages), on
 * 127.0.0.1 and free ports. postgresql.conf, the init script with the init
 * container's environment, pgbouncer.ini and userlist.txt all come from the
 * `upload` blocks and `env` of the synthesized containers. Generated test
 * passwords replace the Terraform references.
 *
 * NOTE: the pinned image runs PgBouncer 1.25 and PostgreSQL 17; these tests
 * cannot cover what differs. PgBouncer 1.18 has no `max_prepared_statements`
 * (1.21 and later), so transaction pooling with JDBC's named prepared
 * statements is shown to fail here and is not shown to work; the shipped
 * configurations use session pooling, which these tests do cover. The
 * server-side SCRAM exchange and DISCARD ALL behave the same in 1.18 and 1.25.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import { parse, stringify } from "yaml";
import {
  PGBOUNCER_STATS_USER,
  renderPgbouncerIni,
} from "../../lib/rendering/pgbouncer";
import { synthConfigFile, synthConfigText, StackJson } from "../support/synth";
import {
  describeWithServers,
  LocalServer,
  POSTGRES_BIN,
  requirePrograms,
  runPsql,
  startPgbouncer,
  startPostgres,
} from "./support/local-servers";
import {
  ClientRole,
  databasesOf,
  environmentOf,
  rolesOf,
  shippedConfigs,
  SynthesizedDatabase,
  TestPasswords,
  uploadedFile,
} from "./support/synthesized-database";

const POSTGRES_CONF = "/etc/postgresql/postgresql.conf";
const INIT_SCRIPT = "/usr/local/share/proveit/init-databases.sql";
const PGBOUNCER_INI = "/etc/pgbouncer/pgbouncer.ini";
const USERLIST = "/etc/pgbouncer/userlist.txt";

/** Concurrent clients of the prepared-statement workload, as a gateway's connection pool would open. */
const WORKERS = 20;
/** Rounds each client runs; every fifth round it reconnects, so server connections pass between clients. */
const ROUNDS = 30;
const RECONNECT_EVERY = 5;
/** Named statements per round, each executed once per round after its first Parse. */
const STATEMENTS = [
  "SELECT $1::int + 1 AS n",
  "SELECT $1::int * 2 AS n",
  "SELECT current_database() AS n, $1::int AS i",
];

/** One SharedDatabase with PgBouncer, found in a synthesized configuration. */
interface DatabaseCase {
  readonly label: string;
  readonly configFile: string;
  readonly stackId: string;
  readonly database: SynthesizedDatabase;
}

function databaseCases(): DatabaseCase[] {
  const cases: DatabaseCase[] = [];
  for (const configFile of shippedConfigs()) {
    const result = synthConfigFile(configFile);
    try {
      for (const [stackId, stack] of Object.entries(result.stacks)) {
        for (const database of databasesOf(stack)) {
          if (database.pgbouncer) {
            cases.push({
              label: `${path.basename(configFile)} ${database.path}`,
              configFile,
              stackId,
              database,
            });
          }
        }
      }
    } finally {
      result.cleanup();
    }
  }
  return cases;
}

/** Runs the init container's command with psql against the local server. */
function applyInit(
  init: StackJson,
  passwords: TestPasswords,
  port: number,
): { status: number; output: string } {
  const environment = passwords.substituteAll(environmentOf(init));
  return runPsql(uploadedFile(init, INIT_SCRIPT), environment, port);
}

function clientFor(
  port: number,
  database: string,
  user: string,
  password: string,
): Client {
  return new Client({
    host: "127.0.0.1",
    port,
    database,
    user,
    password,
    connectionTimeoutMillis: 10_000,
  });
}

/** Connects, runs a query and disconnects; rejects with the server's error. */
async function queryOnce(
  port: number,
  database: string,
  user: string,
  password: string,
  sql: string,
): Promise<Record<string, unknown>> {
  const client = clientFor(port, database, user, password);
  await client.connect();
  try {
    const result: unknown = await client.query(sql);
    // A text with several statements returns one result per statement, and the last one is the query result.
    const last = Array.isArray(result) ? result[result.length - 1] : result;
    return (last as { rows: Record<string, unknown>[] }).rows[0];
  } finally {
    await client.end();
  }
}

async function connectionError(
  port: number,
  database: string,
  user: string,
  password: string,
): Promise<string> {
  try {
    await queryOnce(port, database, user, password, "SELECT 1");
    return "connected";
  } catch (error) {
    return (error as Error).message;
  }
}

/** Runs one statement and returns the server's error message, or "ok". */
async function connectionErrorFor(
  port: number,
  database: string,
  user: string,
  password: string,
  sql: string,
): Promise<string> {
  const client = clientFor(port, database, user, password);
  await client.connect();
  try {
    await client.query(sql);
    return "ok";
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end();
  }
}

interface WorkloadResult {
  readonly statements: number;
  readonly clientConnections: number;
  readonly serverProcesses: number;
  readonly errors: string[];
}

/**
 * Sends named prepared statements as the PostgreSQL JDBC driver does. The
 * first use on a connection sends Parse with the statement name, then Bind,
 * Execute and Sync. Later uses send Bind, Execute and Sync only. Each worker
 * keeps its connection for a few rounds, then reconnects.
 */
async function preparedStatementWorkload(
  port: number,
  role: ClientRole,
  workers: number,
  rounds: number,
): Promise<WorkloadResult> {
  const errors: string[] = [];
  const serverPids = new Set<number>();
  let statements = 0;
  let clientConnections = 0;

  const worker = async (index: number): Promise<void> => {
    let client: Client | undefined;
    for (let round = 0; round < rounds; round++) {
      if (!client || round % RECONNECT_EVERY === 0) {
        await client?.end();
        client = clientFor(port, role.name, role.name, role.password);
        await client.connect();
        clientConnections++;
        const pid = await client.query("SELECT pg_backend_pid() AS pid");
        serverPids.add(pid.rows[0].pid);
      }
      for (const [position, text] of STATEMENTS.entries()) {
        try {
          await client.query({
            name: `S_${position + 1}`,
            text,
            values: [index * rounds + round],
          });
          statements++;
        } catch (error) {
          errors.push((error as Error).message);
        }
      }
    }
    await client?.end();
  };

  await Promise.all(
    Array.from({ length: workers }, (_, index) => worker(index)),
  );
  return {
    statements,
    clientConnections,
    serverProcesses: serverPids.size,
    errors,
  };
}

/** Adds a gateway to core's configuration and synthesizes it, to model a gateway added after the first deploy. */
function synthWithExtraGateway(configFile: string): Record<string, StackJson> {
  const config = parse(readFileSync(configFile, "utf8"));
  config.stacks.core.gateways = {
    ...config.stacks.core.gateways,
    "ignition-added": { containerName: "proveit-core-ignition-added" },
  };
  const result = synthConfigText(stringify(config));
  try {
    return result.stacks;
  } finally {
    result.cleanup();
  }
}

const CASES = databaseCases();

describeWithServers.each(CASES)(
  "database $label",
  ({ configFile, stackId, database }) => {
    const passwords = new TestPasswords();
    const servers: LocalServer[] = [];
    let postgres: LocalServer;
    let pgbouncer: LocalServer;
    let roles: ClientRole[];
    let statsRole: ClientRole | undefined;
    let firstInit: { status: number; output: string };

    beforeAll(async () => {
      requirePrograms();
      const superuser = environmentOf(database.init).PGPASSWORD;
      postgres = await startPostgres(
        uploadedFile(database.postgres, POSTGRES_CONF),
        passwords.passwordFor(superuser),
      );
      servers.push(postgres);
      firstInit = applyInit(database.init, passwords, postgres.port);
      const userlist = passwords.substitute(
        uploadedFile(database.pgbouncer!, USERLIST),
      );
      // The stats user logs in to PgBouncer's console only; it has no database of its own.
      roles = rolesOf(userlist).filter(
        (role) => role.name !== PGBOUNCER_STATS_USER,
      );
      statsRole = rolesOf(userlist).find(
        (role) => role.name === PGBOUNCER_STATS_USER,
      );
      pgbouncer = await startPgbouncer(
        uploadedFile(database.pgbouncer!, PGBOUNCER_INI),
        userlist,
        postgres.port,
      );
      servers.push(pgbouncer);
    });

    afterAll(async () => {
      for (const server of servers.reverse()) {
        await server.stop();
      }
    });

    test("init script succeeds", () => {
      expect(firstInit).toEqual({ status: 0, output: expect.any(String) });
    });

    test("pg_isready accepts PgBouncer", () => {
      // The PgBouncer container's healthcheck runs this command without a password.
      const run = () =>
        execFileSync(
          `${POSTGRES_BIN}/pg_isready`,
          ["-h", "127.0.0.1", "-p", String(pgbouncer.port)],
          { encoding: "utf8" },
        );
      expect(run).not.toThrow();
    });

    test("each role queries its own database", async () => {
      for (const role of roles) {
        const row = await queryOnce(
          pgbouncer.port,
          role.name,
          role.name,
          role.password,
          "SELECT current_user AS who, current_database() AS db",
        );
        expect(row).toEqual({ who: role.name, db: role.name });
      }
    });

    test("each role can create tables", async () => {
      for (const role of roles) {
        const row = await queryOnce(
          pgbouncer.port,
          role.name,
          role.name,
          role.password,
          "CREATE TEMP TABLE probe (n int); SELECT 1 AS ok",
        );
        expect(row).toEqual({ ok: 1 });
      }
    });

    test("each role is refused elsewhere", async () => {
      if (roles.length < 2) {
        return;
      }
      for (const [index, role] of roles.entries()) {
        const other = roles[(index + 1) % roles.length];
        const message = await connectionError(
          pgbouncer.port,
          other.name,
          role.name,
          role.password,
        );
        expect({ role: role.name, database: other.name, message }).toEqual({
          role: role.name,
          database: other.name,
          message: expect.stringMatching(/permission denied for database/),
        });
      }
    });

    test("roles are refused server databases", async () => {
      for (const role of roles) {
        for (const serverDatabase of ["postgres", "template1"]) {
          const message = await connectionError(
            postgres.port,
            serverDatabase,
            role.name,
            role.password,
          );
          expect({ role: role.name, serverDatabase, message }).toEqual({
            role: role.name,
            serverDatabase,
            message: expect.stringMatching(/permission denied for database/),
          });
        }
      }
    });

    test("wrong password is refused", async () => {
      const message = await connectionError(
        pgbouncer.port,
        roles[0].name,
        roles[0].name,
        `${roles[0].password}x`,
      );
      // PgBouncer replies to a failed SCRAM exchange with its own message.
      expect(message).toMatch(
        /SASL authentication failed|password authentication failed/,
      );
    });

    test("unknown role is refused", async () => {
      const message = await connectionError(
        pgbouncer.port,
        roles[0].name,
        "intruder",
        roles[0].password,
      );
      expect(message).toMatch(
        /SASL authentication failed|password authentication failed|no such user/,
      );
    });

    test("named prepared statements survive concurrency", async () => {
      const result = await preparedStatementWorkload(
        pgbouncer.port,
        roles[0],
        WORKERS,
        ROUNDS,
      );
      expect(result.errors).toEqual([]);
      expect(result.statements).toBe(WORKERS * ROUNDS * STATEMENTS.length);
      // Fewer server processes than client connections: server connections passed between clients.
      expect(result.serverProcesses).toBeLessThan(result.clientConnections);
    });

    test("init twice keeps rows", async () => {
      for (const role of roles) {
        await queryOnce(
          pgbouncer.port,
          role.name,
          role.name,
          role.password,
          "CREATE TABLE IF NOT EXISTS rows_before_init (n int); INSERT INTO rows_before_init VALUES (42); SELECT 1",
        );
      }
      const second = applyInit(database.init, passwords, postgres.port);
      expect(second).toMatchObject({ status: 0 });
      for (const role of roles) {
        const row = await queryOnce(
          pgbouncer.port,
          role.name,
          role.name,
          role.password,
          "SELECT count(*)::int AS rows FROM rows_before_init",
        );
        expect({ role: role.name, row }).toEqual({
          role: role.name,
          row: { rows: 1 },
        });
      }
    });

    test("added gateway gets a database", async () => {
      if (stackId !== "core" || !database.path.endsWith("database-postgres")) {
        return;
      }
      const stacks = synthWithExtraGateway(configFile);
      const updated = databasesOf(stacks.core).find(
        (candidate) => candidate.path === database.path,
      )!;
      const rerun = applyInit(updated.init, passwords, postgres.port);
      expect(rerun).toMatchObject({ status: 0 });

      const userlist = passwords.substitute(
        uploadedFile(updated.pgbouncer!, USERLIST),
      );
      const replaced = await startPgbouncer(
        uploadedFile(updated.pgbouncer!, PGBOUNCER_INI),
        userlist,
        postgres.port,
      );
      servers.push(replaced);
      const added = rolesOf(userlist).find(
        (role) => role.name === "core_ignition_added",
      )!;
      const row = await queryOnce(
        replaced.port,
        added.name,
        added.name,
        added.password,
        "SELECT current_database() AS db",
      );
      expect(row).toEqual({ db: "core_ignition_added" });
      for (const role of roles) {
        const existing = await queryOnce(
          replaced.port,
          role.name,
          role.name,
          role.password,
          "SELECT count(*)::int AS rows FROM rows_before_init",
        );
        expect({ role: role.name, existing }).toEqual({
          role: role.name,
          existing: { rows: 1 },
        });
      }
    });

    test("stats user runs SHOW STATS", async () => {
      // The shipped configurations enable Prometheus, so every PgBouncer has the exporter's stats user.
      expect(statsRole).toBeDefined();
      const client = clientFor(
        pgbouncer.port,
        "pgbouncer",
        PGBOUNCER_STATS_USER,
        statsRole!.password,
      );
      await client.connect();
      try {
        const stats = await client.query("SHOW STATS");
        const pools = await client.query("SHOW POOLS");
        expect(
          stats.rows.map((row: { database: string }) => row.database),
        ).toEqual(expect.arrayContaining(roles.map((role) => role.name)));
        expect(pools.rows.length).toBeGreaterThan(0);
      } finally {
        await client.end();
      }
    });

    test("stats user cannot pause PgBouncer", async () => {
      const message = await connectionErrorFor(
        pgbouncer.port,
        "pgbouncer",
        PGBOUNCER_STATS_USER,
        statsRole!.password,
        "PAUSE",
      );
      expect(message).toMatch(/admin access needed/);
    });

    test("stats user is refused databases", async () => {
      const message = await connectionError(
        pgbouncer.port,
        roles[0].name,
        PGBOUNCER_STATS_USER,
        statsRole!.password,
      );
      expect(message).not.toBe("connected");
    });

    test("transaction pooling breaks them on 1.18", async () => {
      // Control: the same workload through transaction pooling without prepared-statement
      // tracking (PgBouncer 1.18 has none) fails, so the workload does detect the failure.
      const ini = renderPgbouncerIni({
        serverHost: "127.0.0.1",
        clients: roles,
        poolMode: "transaction",
        poolSize: 4,
        authFile: "/unused",
      }).replace(
        /^; Track named prepared statements.*\n^max_prepared_statements = .*$/m,
        "",
      );
      const userlist =
        roles.map((role) => `"${role.name}" "${role.password}"`).join("\n") +
        "\n";
      const transactional = await startPgbouncer(ini, userlist, postgres.port);
      servers.push(transactional);
      const result = await preparedStatementWorkload(
        transactional.port,
        roles[0],
        10,
        5,
      );
      expect(result.errors.length).toBeGreaterThan(0);
      expect(
        result.errors.every((message) =>
          /prepared statement "S_\d" (already exists|does not exist)/.test(
            message,
          ),
        ),
      ).toBe(true);
    });
  },
);

test("shipped configurations have a PgBouncer", () => {
  expect(CASES.length).toBeGreaterThan(0);
});
