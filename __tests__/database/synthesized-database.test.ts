/**
 * Assertions on the synthesized Terraform JSON of every shipped
 * configuration: data volumes, secrets, host ports, cross-stack outputs, the
 * init container's lifecycle, PgBouncer's pools and the Ignition gateways'
 * database connection, healthcheck and public address.
 */
import * as path from "node:path";
import { renderStatusPingCheck } from "../../lib/rendering/ignition-resources";
import { planPools } from "../../lib/rendering/pgbouncer";
import {
  resourcesOfType,
  StackJson,
  synthConfigFile,
  SynthResult,
} from "../support/synth";
import {
  databasesOf,
  environmentOf,
  shippedConfigs,
  uploadedFile,
  uploadedFileEndingWith,
} from "./support/synthesized-database";

const SECRET_NAME = /PASSWORD|SECRET|TOKEN/;
const ONE_REFERENCE = /^\$\{[^{}]+\}$/;

function allContainers(result: SynthResult): [string, StackJson][] {
  return Object.entries(result.stacks).flatMap(([stackId, stack]) =>
    Object.values(resourcesOfType(stack, "docker_container")).map(
      (container): [string, StackJson] => [stackId, container],
    ),
  );
}

function gatewayContainers(result: SynthResult): [string, StackJson][] {
  return allContainers(result).filter(([, container]) =>
    String(container["//"]?.metadata?.path).includes("/gateway-"),
  );
}

describe.each(
  shippedConfigs().map((file) => ({ name: path.basename(file), file })),
)("synthesized $name", ({ file }) => {
  let result: SynthResult;

  beforeAll(() => {
    result = synthConfigFile(file);
  });

  afterAll(() => {
    result.cleanup();
  });

  test("volumes prevent destroy", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const volume of Object.values(
        resourcesOfType(stack, "docker_volume"),
      )) {
        expect({
          volume: volume.name,
          preventDestroy: volume.lifecycle?.prevent_destroy,
        }).toEqual({ volume: volume.name, preventDestroy: true });
      }
    }
  });

  test("secret variables hold references only", () => {
    for (const [stackId, container] of allContainers(result)) {
      for (const [name, value] of Object.entries(environmentOf(container))) {
        if (SECRET_NAME.test(name)) {
          expect({ stackId, container: container.name, name, value }).toEqual({
            stackId,
            container: container.name,
            name,
            value: expect.stringMatching(ONE_REFERENCE),
          });
        }
      }
    }
  });

  test("user lists hold references only", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const database of databasesOf(stack).filter(
        (candidate) => candidate.pgbouncer,
      )) {
        const lines = uploadedFile(
          database.pgbouncer!,
          "/etc/pgbouncer/userlist.txt",
        )
          .trim()
          .split("\n");
        for (const line of lines) {
          expect(line).toMatch(
            /^"[a-z0-9_]+" "\$\{random_password\.[A-Za-z0-9_-]+\.result\}"$/,
          );
        }
      }
    }
  });

  test("uploads contain no password literal", () => {
    // Every password reaches a container through a reference; an uploaded file may only name the placeholder.
    for (const [, container] of allContainers(result)) {
      for (const upload of container.upload ?? []) {
        expect({
          file: upload.file,
          literal: /password\s*[=:]\s*"?[A-Za-z0-9]{12,}/i.test(
            String(upload.content ?? "").replace(/\$\{[^}]+\}/g, ""),
          ),
        }).toEqual({
          file: upload.file,
          literal: false,
        });
      }
    }
  });

  test("generated passwords have no special characters", () => {
    // Passwords go into user lists, JDBC URLs and shell substitution without quoting.
    for (const stack of Object.values(result.stacks)) {
      for (const password of Object.values(
        resourcesOfType(stack, "random_password"),
      )) {
        if (
          String(password["//"]?.metadata?.path).includes("/database-") ||
          String(password["//"]?.metadata?.path).includes("/gateway-")
        ) {
          expect({
            path: password["//"].metadata.path,
            special: password.special,
            length: password.length,
          }).toEqual({
            path: password["//"].metadata.path,
            special: false,
            length: expect.any(Number),
          });
        }
      }
    }
  });

  test("shared PgBouncer binds 127.0.0.1:6432", () => {
    const core = result.stacks.core;
    const shared = databasesOf(core).find(
      (database) =>
        database.pgbouncer && database.path === "core/database-postgres",
    );
    expect(shared?.pgbouncer?.ports).toEqual([
      { internal: 5432, external: 6432, ip: "127.0.0.1", protocol: "tcp" },
    ]);
  });

  test("shared PgBouncer alias is pgbouncer", () => {
    const shared = databasesOf(result.stacks.core).find(
      (database) => database.path === "core/database-postgres",
    );
    expect(shared?.pgbouncer?.networks_advanced[0].aliases).toEqual([
      "pgbouncer",
    ]);
  });

  test("every published port binds loopback", () => {
    const databaseContainers = Object.values(result.stacks).flatMap((stack) =>
      databasesOf(stack).flatMap((database) =>
        [database.postgres, database.pgbouncer].filter(Boolean),
      ),
    );
    for (const container of databaseContainers) {
      for (const port of container!.ports ?? []) {
        expect({ container: container!.name, ip: port.ip }).toEqual({
          container: container!.name,
          ip: "127.0.0.1",
        });
      }
    }
  });

  test("cross-stack outputs are sensitive", () => {
    for (const [stackId, stack] of Object.entries(result.stacks)) {
      for (const [name, output] of Object.entries<StackJson>(
        stack.output ?? {},
      )) {
        if (
          name.startsWith("cross-stack-output-") ||
          /random_password|terraform_remote_state/.test(
            JSON.stringify(output.value),
          )
        ) {
          expect({ stackId, name, sensitive: output.sensitive }).toEqual({
            stackId,
            name,
            sensitive: true,
          });
        }
      }
    }
  });

  test("gateway credentials cross stacks", () => {
    for (const [stackId, container] of gatewayContainers(result)) {
      if (stackId === "core") {
        continue;
      }
      const password = environmentOf(container).PROVEIT_DB_PASSWORD;
      expect({ container: container.name, password }).toEqual({
        container: container.name,
        password: expect.stringMatching(
          /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-core\.outputs\.[^}]+\}$/,
        ),
      });
    }
  });

  test("gateway connection host is a reference", () => {
    const databaseNameOf = (
      containerName: string,
      synthesized: typeof result,
    ) =>
      synthesized.deployment.stacks
        .flatMap((stack) => stack.gateways)
        .find((gateway) => gateway.containerName === containerName)!
        .databaseName;
    for (const [, container] of gatewayContainers(result)) {
      // References hold quotes (output["host"]) that Terraform resolves before the file is written.
      const content = uploadedFileEndingWith(container, "/config.json").replace(
        /\$\{[^}]+\}/g,
        "REFERENCE",
      );
      const config = JSON.parse(content);
      // Host and port come from the database's stack; the database is the gateway's own, named at synth.
      const database = databaseNameOf(container.name, result);
      expect({ container: container.name, url: config.connectURL }).toEqual({
        container: container.name,
        url: `jdbc:postgresql://REFERENCE:REFERENCE/${database}?password=@@PROVEIT_DB_PASSWORD@@&ApplicationName=ignition`,
      });
    }
  });

  test("gateway seeds its own database", () => {
    for (const spec of result.deployment.stacks.flatMap(
      (stack) => stack.gateways,
    )) {
      const [, container] = gatewayContainers(result).find(
        ([, candidate]) => candidate.name === spec.containerName,
      )!;
      const files = (container.upload ?? []).map(
        (upload: StackJson) => upload.file,
      );
      expect(files).toContain(
        `/usr/local/share/proveit/external/ignition/database-connection/${spec.databaseName}/config.json`,
      );
    }
  });

  test("gateway healthcheck waits for RUNNING", () => {
    for (const [, container] of gatewayContainers(result)) {
      expect({
        container: container.name,
        healthcheck: container.healthcheck,
      }).toEqual({
        container: container.name,
        healthcheck: expect.objectContaining({
          test: ["CMD", "bash", "-c", renderStatusPingCheck(8088)],
          start_period: "300s",
        }),
      });
    }
  });

  test("gateway public address uses https", () => {
    for (const spec of result.deployment.stacks
      .flatMap((stack) => stack.gateways)
      .filter((gateway) => gateway.poolHostname)) {
      const [, container] = gatewayContainers(result).find(
        ([, candidate]) => candidate.name === spec.containerName,
      )!;
      const command: string[] = container.command;
      const address = command.slice(
        command.indexOf("-a"),
        command.indexOf("-a") + 6,
      );
      expect(address).toEqual([
        "-a",
        spec.poolHostname,
        "-h",
        "80",
        "-s",
        "443",
      ]);
      expect(command).toContain("gateway.useProxyForwardedHeader=true");
    }
  });

  test("no wait without healthcheck", () => {
    for (const [, container] of allContainers(result)) {
      if (container.wait) {
        expect({
          container: container.name,
          healthcheck: Boolean(container.healthcheck),
        }).toEqual({ container: container.name, healthcheck: true });
      }
    }
  });

  test("init container reports its exit code", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const database of databasesOf(stack)) {
        const init = database.init;
        expect({
          attach: init.attach,
          mustRun: init.must_run,
          restart: init.restart,
        }).toEqual({ attach: true, mustRun: false, restart: "no" });
        expect(init.lifecycle.postcondition[0].condition).toBe(
          "${self.exit_code == 0}",
        );
      }
    }
  });

  test("init reruns when the server changes", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const database of databasesOf(stack)) {
        const postgresId = Object.entries(
          resourcesOfType(stack, "docker_container"),
        ).find(([, container]) => container === database.postgres)![0];
        // A bare reference: terraform init rejects an interpolation here.
        expect(database.init.lifecycle.replace_triggered_by).toEqual([
          `docker_container.${postgresId}`,
        ]);
      }
    }
  });

  test("pools follow the client count", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const database of databasesOf(stack).filter(
        (candidate) => candidate.pgbouncer,
      )) {
        const ini = uploadedFile(
          database.pgbouncer!,
          "/etc/pgbouncer/pgbouncer.ini",
        );
        const clients = ini
          .split("\n")
          .filter((line) => / = host=\S+ port=\d+ dbname=/.test(line)).length;
        const plan = planPools(
          clients,
          Number(/^default_pool_size = (\d+)$/m.exec(ini)![1]),
        );
        expect(ini).toContain(`max_client_conn = ${plan.maxClientConnections}`);
        expect(
          uploadedFile(database.postgres, "/etc/postgresql/postgresql.conf"),
        ).toContain(`max_connections = ${plan.postgresMaxConnections}`);
      }
    }
  });

  test("pools use session mode", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const database of databasesOf(stack).filter(
        (candidate) => candidate.pgbouncer,
      )) {
        expect(
          uploadedFile(database.pgbouncer!, "/etc/pgbouncer/pgbouncer.ini"),
        ).toMatch(/^pool_mode = session$/m);
      }
    }
  });

  test("shared database serves every gateway", () => {
    const shared = databasesOf(result.stacks.core).find(
      (database) => database.path === "core/database-postgres",
    )!;
    const ini = uploadedFile(shared.pgbouncer!, "/etc/pgbouncer/pgbouncer.ini");
    for (const gateway of result.deployment.stacks.flatMap(
      (stack) => stack.gateways,
    )) {
      expect(ini).toContain(
        `${gateway.databaseName} = host=postgres port=5432 dbname=${gateway.databaseName}`,
      );
    }
  });

  test("images are pinned", () => {
    for (const stack of Object.values(result.stacks)) {
      for (const image of Object.values(
        resourcesOfType(stack, "docker_image"),
      )) {
        expect(image.name).toMatch(
          /:[A-Za-z0-9_][A-Za-z0-9_.-]*$|@sha256:[a-f0-9]{64}$/,
        );
      }
    }
  });
});
