/**
 * Configuration rules and options around the shared database and the
 * gateways' add-ons: names PostgreSQL would truncate or that belong to the
 * server, add-on files, and what Ignition 8.1 gets instead of seeding.
 */
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { ConfigError } from "../../lib/config/errors";
import { parseDeployment } from "../../lib/config/load";
import {
  DEFAULT_CONFIG,
  resourcesOfType,
  StackJson,
  synthConfigFile,
  SynthResult,
} from "../support/synth";
import { environmentOf } from "./support/synthesized-database";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function defaultConfig(): any {
  return parse(readFileSync(DEFAULT_CONFIG, "utf8"));
}

function issuesOf(config: unknown): string {
  try {
    parseDeployment(stringify(config), "test.yaml", {});
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.message;
    }
    throw error;
  }
  return "";
}

function gatewayContainer(
  result: SynthResult,
  stackId: string,
  name: string,
): StackJson {
  return Object.values(
    resourcesOfType(result.stacks[stackId], "docker_container"),
  ).find((container) => container.name === name)!;
}

describe("database names", () => {
  test("long gateway key is rejected", () => {
    const config = defaultConfig();
    const key = `g${"x".repeat(60)}`;
    config.stacks.scada.gateways[key] = { containerName: "proveit-scada-long" };
    expect(issuesOf(config)).toMatch(
      new RegExp(
        `stacks\\.scada\\.gateways\\.${key}[\\s\\S]*63 characters[\\s\\S]*Fix: choose a shorter gateway key`,
      ),
    );
  });

  test("reserved database name is rejected", () => {
    const config = defaultConfig();
    config.stacks.core.databases.postgres.databases = ["postgres"];
    expect(issuesOf(config)).toMatch(
      /stacks\.core\.databases\.postgres\.databases\[0\] = "postgres"[\s\S]*reserved/,
    );
  });

  test("name used by a gateway is rejected", () => {
    const config = defaultConfig();
    config.stacks.core.databases.postgres.databases = ["scada_ignition"];
    expect(issuesOf(config)).toMatch(
      /databases\[0\] = "scada_ignition"[\s\S]*is also used by stacks\.scada\.gateways\.ignition/,
    );
  });

  test("default configuration is accepted", () => {
    expect(issuesOf(defaultConfig())).toBe("");
  });
});

describe("gateway add-ons", () => {
  let directory: string;
  let result: SynthResult;

  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), "proveit-addons-"));
    mkdirSync(path.join(directory, "modules"));
    mkdirSync(path.join(directory, "drivers"));
    writeFileSync(
      path.join(directory, "modules", "mqtt-engine.modl"),
      "module bytes",
    );
    writeFileSync(
      path.join(directory, "drivers", "ojdbc11.jar"),
      "driver bytes",
    );
    const config = defaultConfig();
    config.stacks.scada.gateways.ignition.thirdPartyModules = [
      {
        id: "com.cirruslink.mqtt.engine.gateway",
        file: "modules/mqtt-engine.modl",
      },
    ];
    config.stacks.scada.gateways.ignition.jdbcDrivers = ["drivers/ojdbc11.jar"];
    config.stacks.core.gateways.ignition.image =
      "inductiveautomation/ignition:8.1.48";
    config.stacks.core.gateways.ignition.thirdPartyModules = [
      {
        id: "com.cirruslink.mqtt.engine.gateway",
        file: "modules/mqtt-engine.modl",
      },
    ];
    const file = path.join(directory, "config.yaml");
    writeFileSync(file, stringify(config));
    result = synthConfigFile(file);
  });

  afterAll(() => {
    result.cleanup();
    rmSync(directory, { recursive: true, force: true });
  });

  test("module is uploaded from an asset", () => {
    const upload = gatewayContainer(
      result,
      "scada",
      "proveit-scada-ignition-gateway",
    ).upload.find((entry: StackJson) => entry.file.endsWith(".modl"));
    expect(upload).toEqual({
      file: "/usr/local/bin/ignition/user-lib/modules/mqtt-engine.modl",
      source: expect.stringMatching(
        /^assets\/[^/]+\/[A-F0-9]+\/mqtt-engine\.modl$/,
      ),
      source_hash: expect.any(String),
    });
  });

  test("driver is uploaded into user-lib", () => {
    const files = gatewayContainer(
      result,
      "scada",
      "proveit-scada-ignition-gateway",
    ).upload.map((entry: StackJson) => entry.file);
    expect(files).toContain(
      "/usr/local/bin/ignition/user-lib/jdbc/ojdbc11.jar",
    );
  });

  test("licence and certificate are accepted", () => {
    const environment = environmentOf(
      gatewayContainer(result, "scada", "proveit-scada-ignition-gateway"),
    );
    expect(environment).toMatchObject({
      ACCEPT_MODULE_LICENSES: "com.cirruslink.mqtt.engine.gateway",
      ACCEPT_MODULE_CERTS: "com.cirruslink.mqtt.engine.gateway",
    });
  });

  test("8.1 gateway links modules", () => {
    const container = gatewayContainer(
      result,
      "core",
      "proveit-core-ignition-gateway",
    );
    expect(environmentOf(container).GATEWAY_MODULE_RELINK).toBe("true");
    expect(container.upload.map((entry: StackJson) => entry.file)).toContain(
      "/modules/mqtt-engine.modl",
    );
  });

  test("8.1 gateway gets no seeding", () => {
    const container = gatewayContainer(
      result,
      "core",
      "proveit-core-ignition-gateway",
    );
    expect(container.entrypoint).toBeUndefined();
    expect(environmentOf(container).PROVEIT_DB_PASSWORD).toBeUndefined();
  });

  test("8.1 connection values are outputs", () => {
    const outputs = result.stacks.core.output;
    expect(outputs["ignition-database-connection"]).toMatchObject({
      sensitive: true,
      value: {
        name: "core_ignition",
        driver: "PostgreSQL",
        translator: "POSTGRES",
        connectUrl: expect.stringMatching(/^jdbc:postgresql:\/\//),
      },
    });
    expect(outputs["ignition-database-password"]).toMatchObject({
      sensitive: true,
      value: expect.stringMatching(/^\$\{random_password\./),
    });
  });

  test("8.3 gateways get no connection outputs", () => {
    const outputs = Object.keys(result.stacks.mes.output);
    expect(
      outputs.filter((name) => name.includes("database-connection")),
    ).toEqual([]);
  });

  test("missing module file is rejected", () => {
    const config = defaultConfig();
    config.stacks.scada.gateways.ignition.thirdPartyModules = [
      { id: "com.example.missing", file: "modules/missing.modl" },
    ];
    expect(issuesOf(config)).toMatch(
      /stacks\.scada\.gateways\.ignition\.thirdPartyModules\[0\]\.file = "modules\/missing\.modl"[\s\S]*does not exist/,
    );
  });

  test("path outside the project is rejected", () => {
    const config = defaultConfig();
    config.stacks.scada.gateways.ignition.jdbcDrivers = ["../outside.jar"];
    expect(issuesOf(config)).toMatch(/jdbcDrivers\[0\] = "\.\.\/outside\.jar"/);
  });
});
