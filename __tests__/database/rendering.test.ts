/** Unit tests of the database renderers: names, pool sizes and pool modes. */
import {
  DEFAULT_POOL_SIZE,
  planPools,
  renderPgbouncerIni,
  renderUserlist,
} from "../../lib/rendering/pgbouncer";
import {
  invalidClientName,
  passwordVariable,
  renderInitSql,
} from "../../lib/rendering/postgres-init";
import { renderPostgresConf } from "../../lib/rendering/postgres-conf";
import { ignitionVersionOf } from "../../lib/constructs/ignition-gateway";
import {
  renderDatabaseConnection,
  stableUuid,
} from "../../lib/rendering/ignition-resources";

describe("invalidClientName", () => {
  test.each(["core_ignition", "mes_ignition_frontend_01", "a", "x".repeat(63)])(
    "accepts %s",
    (name) => {
      expect(invalidClientName(name)).toBeUndefined();
    },
  );

  test.each([
    ["postgres", /reserved/],
    ["template1", /reserved/],
    ["pgbouncer", /reserved/],
    ["pg_monitor", /pg_/],
    ["x".repeat(64), /63 characters/],
    ["Upper", /lowercase/],
    ["has-dash", /lowercase/],
    ["1starts_with_digit", /lowercase/],
  ])("rejects %s", (name, reason) => {
    expect(invalidClientName(name)).toMatch(reason);
  });
});

describe("renderInitSql", () => {
  test("rejects a reserved name", () => {
    expect(() => renderInitSql(["postgres"])).toThrow(
      /Invalid database client name "postgres"/,
    );
  });

  test("rejects a repeated name", () => {
    expect(() => renderInitSql(["core_ignition", "core_ignition"])).toThrow(
      /listed twice/,
    );
  });

  test("reads passwords from the environment", () => {
    expect(renderInitSql(["core_ignition"])).toContain(
      `\\getenv client_password ${passwordVariable("core_ignition")}`,
    );
  });

  test("contains no DROP", () => {
    expect(renderInitSql(["a", "b"])).not.toMatch(/\bDROP\b/i);
  });

  test("keeps passwords out of the log", () => {
    expect(renderInitSql(["a"])).toContain(
      "SET log_min_error_statement = panic;",
    );
  });
});

describe("planPools", () => {
  test("sizes pools from the client count", () => {
    expect(planPools(4)).toEqual({
      poolSize: DEFAULT_POOL_SIZE,
      maxClientConnections: 4 * DEFAULT_POOL_SIZE * 2 + 20,
      serverConnections: 4 * DEFAULT_POOL_SIZE,
      postgresMaxConnections: 4 * DEFAULT_POOL_SIZE + 20,
    });
  });

  test("keeps PostgreSQL above PgBouncer", () => {
    for (const clients of [0, 1, 8, 40]) {
      const plan = planPools(clients, 15);
      expect(plan.postgresMaxConnections).toBeGreaterThan(
        plan.serverConnections,
      );
    }
  });

  test("rejects a zero pool size", () => {
    expect(() => planPools(2, 0)).toThrow(
      /Pool size must be a positive integer, got 0/,
    );
  });
});

describe("renderPgbouncerIni", () => {
  const clients = [
    { name: "core_ignition", password: "${random_password.a.result}" },
  ];

  test("defaults to session pooling", () => {
    expect(renderPgbouncerIni({ serverHost: "postgres", clients })).toMatch(
      /^pool_mode = session$/m,
    );
  });

  test("session pooling omits statement tracking", () => {
    expect(
      renderPgbouncerIni({ serverHost: "postgres", clients }),
    ).not.toContain("max_prepared_statements");
  });

  test("transaction pooling tracks statements", () => {
    expect(
      renderPgbouncerIni({
        serverHost: "postgres",
        clients,
        poolMode: "transaction",
      }),
    ).toMatch(/^max_prepared_statements = 200$/m);
  });

  test("one pool per database", () => {
    expect(renderPgbouncerIni({ serverHost: "postgres", clients })).toContain(
      "core_ignition = host=postgres port=5432 dbname=core_ignition",
    );
  });

  test("userlist escapes quotes", () => {
    expect(renderUserlist([{ name: "a", password: 'x"y' }])).toBe(
      '"a" "x""y"\n',
    );
  });
});

describe("renderPostgresConf", () => {
  test("writes the connection limit", () => {
    expect(renderPostgresConf({ maxConnections: 120 })).toMatch(
      /^max_connections = 120$/m,
    );
  });

  test("quotes the time zone", () => {
    expect(
      renderPostgresConf({ maxConnections: 10, timezone: "Europe/Berlin" }),
    ).toMatch(/^timezone = 'Europe\/Berlin'$/m);
  });
});

describe("ignitionVersionOf", () => {
  test.each([
    ["inductiveautomation/ignition:8.3.0", "8.3"],
    ["inductiveautomation/ignition:8.1.48", "8.1"],
    ["registry.example.com:5000/ignition:8.3.2", "8.3"],
    ["inductiveautomation/ignition:nightly", undefined],
    ["inductiveautomation/ignition:8.0.17", undefined],
  ])("reads %s", (image, version) => {
    expect(ignitionVersionOf(image)).toBe(version);
  });
});

describe("renderDatabaseConnection", () => {
  const files = renderDatabaseConnection({
    name: "core_ignition",
    connectUrl: "jdbc:postgresql://pgbouncer:5432/core_ignition",
    username: "core_ignition",
  });

  test("writes config and resource files", () => {
    expect(files.map((file) => file.path)).toEqual([
      "ignition/database-connection/core_ignition/config.json",
      "ignition/database-connection/core_ignition/resource.json",
    ]);
  });

  test("uses the bundled PostgreSQL driver", () => {
    expect(JSON.parse(files[0].content)).toMatchObject({
      driver: "PostgreSQL",
      translator: "POSTGRES",
      username: "core_ignition",
    });
  });

  test("uuid is stable", () => {
    expect(stableUuid("a")).toBe(stableUuid("a"));
  });

  test("uuid has version 5 layout", () => {
    expect(stableUuid("database-connection:core_ignition")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
