import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { loadDeployment } from "../../lib/config/load";
import { buildPlatform } from "../../lib/stacks/platform";
import {
  containerNamed,
  DEFAULT_CONFIG,
  FULL_CONFIG,
  resourcesOfType,
  StackJson,
  synthConfigFile,
  synthDeployment,
  SynthResult,
} from "../support/synth";

const DEPENDENT_STACKS = ["mes", "scada", "analytics"];

/** Container names and host ports of the reference architecture's services table, for the default stacks. */
const APPENDIX: { stack: string; container: string; hostPorts: number[] }[] = [
  {
    stack: "core",
    container: "proveit-core-ignition-gateway",
    hostPorts: [8089, 8045],
  },
  { stack: "core", container: "proveit-core-postgres", hostPorts: [5432] },
  { stack: "core", container: "proveit-core-pgbouncer", hostPorts: [6432] },
  { stack: "core", container: "proveit-core-nginx", hostPorts: [8080] },
  {
    stack: "mes",
    container: "proveit-mes-ignition-frontend-01",
    hostPorts: [8088, 8043, 8060],
  },
  {
    stack: "mes",
    container: "proveit-mes-ignition-backend",
    hostPorts: [8090, 8047, 8062],
  },
  { stack: "mes", container: "proveit-mes-timescaledb", hostPorts: [5433] },
  { stack: "mes", container: "proveit-mes-pgbouncer", hostPorts: [6433] },
  { stack: "mes", container: "proveit-mes-nginx", hostPorts: [8083] },
  {
    stack: "scada",
    container: "proveit-scada-ignition-gateway",
    hostPorts: [8091, 8046, 8063],
  },
  { stack: "scada", container: "proveit-scada-nginx", hostPorts: [8084] },
  {
    stack: "analytics",
    container: "proveit-analytics-mssql",
    hostPorts: [1433],
  },
  {
    stack: "analytics",
    container: "proveit-analytics-nginx",
    hostPorts: [8087],
  },
];

function hostPortsOf(container: StackJson): number[] {
  return (container.ports ?? []).map(
    (port: { external: number }) => port.external,
  );
}

/** Returns the first `${data.terraform_remote_state.<name>...}` reference in a value, if any. */
function remoteStateReference(value: unknown): string | undefined {
  return JSON.stringify(value).match(
    /\$\{data\.terraform_remote_state\.[^}]+\}/,
  )?.[0];
}

describe("default deployment", () => {
  let synth: SynthResult;

  beforeAll(() => {
    synth = synthConfigFile(DEFAULT_CONFIG);
  });

  afterAll(() => synth.cleanup());

  test("writes exactly four stacks", () => {
    expect(Object.keys(synth.stacks).sort()).toEqual([
      "analytics",
      "core",
      "mes",
      "scada",
    ]);
  });

  test.each(DEPENDENT_STACKS)("%s depends on core in the manifest", (id) => {
    expect(synth.manifest.stacks[id].dependencies).toEqual(["core"]);
  });

  test("core depends on nothing", () => {
    expect(synth.manifest.stacks.core.dependencies).toEqual([]);
  });

  test("core creates the shared networks", () => {
    const networks = Object.values(
      resourcesOfType(synth.stacks.core, "docker_network"),
    ).map((network) => network.name);
    expect(networks.sort()).toEqual(["operations-network", "routing-network"]);
  });

  test.each(DEPENDENT_STACKS)("%s creates only its own network", (id) => {
    const networks = Object.values(
      resourcesOfType(synth.stacks[id], "docker_network"),
    ).map((network) => network.name);
    expect(networks).toEqual([`${id}-network`]);
  });

  test.each(APPENDIX)(
    "$container has the appendix host ports",
    ({ stack, container, hostPorts }) => {
      const resource = containerNamed(synth.stacks[stack], container);
      expect(resource).toBeDefined();
      expect(hostPortsOf(resource!).sort()).toEqual([...hostPorts].sort());
    },
  );

  test("host ports bind to 127.0.0.1 by default", () => {
    for (const stack of Object.values(synth.stacks)) {
      for (const container of Object.values(
        resourcesOfType(stack, "docker_container"),
      )) {
        for (const port of container.ports ?? []) {
          expect({ container: container.name, ip: port.ip }).toEqual({
            container: container.name,
            ip: "127.0.0.1",
          });
        }
      }
    }
  });

  test("mes gateways join operations-network through core's state", () => {
    const gateway = containerNamed(
      synth.stacks.mes,
      "proveit-mes-ignition-frontend-01",
    )!;
    const networkNames = gateway.networks_advanced.map(
      (network: { name: string }) => network.name,
    );
    expect(networkNames).toContain("${docker_network.network.name}");
    const operations = networkNames.find((name: string) =>
      name.includes("terraform_remote_state"),
    );
    expect(operations).toMatch(
      /cross-stack-reference-input-core.*operations-networkname/,
    );
    expect(networkNames).not.toContain("operations-network");
  });

  test("mes gateway database password comes from core", () => {
    const gateway = containerNamed(
      synth.stacks.mes,
      "proveit-mes-ignition-frontend-01",
    )!;
    const password = gateway.env.find((entry: string) =>
      entry.startsWith("PROVEIT_DB_PASSWORD="),
    );
    expect(remoteStateReference(password)).toContain(
      "cross-stack-reference-input-core",
    );
  });

  test("core exports cross-stack values as sensitive outputs", () => {
    const outputs = Object.entries<StackJson>(synth.stacks.core.output).filter(
      ([name]) => name.startsWith("cross-stack-output-"),
    );
    expect(outputs.length).toBeGreaterThan(0);
    for (const [name, output] of outputs) {
      expect({ name, sensitive: output.sensitive }).toEqual({
        name,
        sensitive: true,
      });
    }
  });

  test("core's state and mes's lookup name one file", () => {
    const corePath = synth.stacks.core.terraform.backend.local.path;
    const lookup = Object.values<StackJson>(
      synth.stacks.mes.data.terraform_remote_state,
    )[0];
    expect(lookup.backend).toBe("local");
    const fromCore = path.resolve(synth.outdir, "stacks", "core", corePath);
    const fromMes = path.resolve(
      synth.outdir,
      "stacks",
      "mes",
      lookup.config.path,
    );
    expect(fromMes).toBe(fromCore);
    expect(fromCore).toBe(
      path.join(synth.root, "terraform-state", "core.tfstate"),
    );
  });

  test("local state paths are relative", () => {
    for (const [id, stack] of Object.entries(synth.stacks)) {
      const statePath: string = stack.terraform.backend.local.path;
      expect({ id, absolute: path.isAbsolute(statePath) }).toEqual({
        id,
        absolute: false,
      });
      expect(statePath).toBe(`../../../terraform-state/${id}.tfstate`);
    }
  });

  test("data volumes are protected from destroy", () => {
    for (const stack of Object.values(synth.stacks)) {
      for (const volume of Object.values(
        resourcesOfType(stack, "docker_volume"),
      )) {
        expect({
          volume: volume.name,
          preventDestroy: volume.lifecycle?.prevent_destroy,
        }).toEqual({
          volume: volume.name,
          preventDestroy: true,
        });
      }
    }
  });

  test("credentials in environments are references", () => {
    for (const stack of Object.values(synth.stacks)) {
      for (const container of Object.values(
        resourcesOfType(stack, "docker_container"),
      )) {
        for (const entry of (container.env ?? []) as string[]) {
          const [name, value] = [
            entry.slice(0, entry.indexOf("=")),
            entry.slice(entry.indexOf("=") + 1),
          ];
          if (/PASSWORD|TOKEN|SECRET/.test(name)) {
            expect({
              container: container.name,
              name,
              reference: /^\$\{[^}]+\}$/.test(value),
            }).toEqual({
              container: container.name,
              name,
              reference: true,
            });
          }
        }
      }
    }
  });

  test("TimescaleDB preloads its library", () => {
    const server = containerNamed(synth.stacks.mes, "proveit-mes-timescaledb")!;
    const conf = server.upload.find(
      (file: StackJson) => file.file === "/etc/postgresql/postgresql.conf",
    ).content;
    expect(conf).toContain("shared_preload_libraries = 'timescaledb'");
    const init = containerNamed(
      synth.stacks.mes,
      "proveit-mes-timescaledb-init",
    )!;
    const script = init.upload.find((file: StackJson) =>
      file.file.endsWith(".sql"),
    ).content;
    expect(script).toContain(
      "\\connect mes\nCREATE EXTENSION IF NOT EXISTS timescaledb;",
    );
  });

  test("plain PostgreSQL preloads nothing", () => {
    const server = containerNamed(synth.stacks.core, "proveit-core-postgres")!;
    const conf = server.upload.find(
      (file: StackJson) => file.file === "/etc/postgresql/postgresql.conf",
    ).content;
    expect(conf).not.toContain("shared_preload_libraries");
  });

  test("tunnel secrets are sensitive variables", () => {
    for (const name of ["cloudflare_account_id", "cloudflare_zone_id"]) {
      expect(synth.stacks.core.variable[name].sensitive).toBe(true);
    }
  });
});

describe("full deployment", () => {
  let synth: SynthResult;

  beforeAll(() => {
    synth = synthConfigFile(FULL_CONFIG);
  });

  afterAll(() => synth.cleanup());

  test("writes eight stacks", () => {
    expect(Object.keys(synth.stacks).sort()).toEqual([
      "analytics",
      "core",
      "edge",
      "historian",
      "mes",
      "monitoring",
      "scada",
      "utility",
    ]);
  });

  test("every dependent depends on core", () => {
    for (const [id, stack] of Object.entries<StackJson>(
      synth.manifest.stacks,
    )) {
      expect({ id, dependencies: stack.dependencies }).toEqual({
        id,
        dependencies: id === "core" ? [] : ["core"],
      });
    }
  });

  test("monitoring is served under monitor", () => {
    const hostnames = synth.deployment.stacks
      .find((stack) => stack.id === "monitoring")!
      .routes.map((route) => route.hostname);
    expect(hostnames).toContain("uptime.monitor.example.com");
  });

  test("fuuz publishes its whole port range", () => {
    const fuuz = containerNamed(
      synth.stacks.edge,
      "proveit-edge-fuuz-gateway",
    )!;
    const external = hostPortsOf(fuuz);
    expect(external).toHaveLength(51);
    expect(Math.min(...external)).toBe(5500);
    expect(Math.max(...external)).toBe(5550);
  });

  test("core database serves every gateway", () => {
    const passwords = Object.keys(
      resourcesOfType(synth.stacks.core, "random_password"),
    );
    const gateways = synth.deployment.stacks.flatMap((stack) =>
      stack.gateways.map((gateway) => gateway.databaseName),
    );
    expect(gateways).toEqual([
      "core_ignition",
      "mes_ignition_frontend_01",
      "mes_ignition_backend",
      "scada_ignition",
      "edge_ignition_01",
    ]);
    for (const name of gateways) {
      expect({
        name,
        hasPassword: passwords.some((id) => id.includes(`password-${name}_`)),
      }).toEqual({ name, hasPassword: true });
    }
  });
});

describe("deploy ordering", () => {
  test("dependency exists before any token resolves", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "proveit-ordering-"));
    const app = new App({ outdir });
    const stacks = buildPlatform(app, loadDeployment(DEFAULT_CONFIG, {}));
    const core = stacks.get("core")!;
    for (const id of DEPENDENT_STACKS) {
      expect({
        id,
        dependsOnCore: stacks.get(id)!.dependencies.includes(core),
      }).toEqual({ id, dependsOnCore: true });
    }
    rmSync(outdir, { recursive: true, force: true });
  });
});

describe("Terraform Cloud backend", () => {
  let synth: SynthResult;

  beforeAll(() => {
    const deployment = loadDeployment(DEFAULT_CONFIG, {
      TF_CLOUD_ORGANIZATION: "acme",
    });
    const cloud = {
      ...deployment,
      backend: {
        type: "cloud" as const,
        organization: "acme",
        workspacePrefix: "proveit-",
        hostname: "app.terraform.io",
      },
    };
    synth = synthDeployment(cloud);
  });

  afterAll(() => synth.cleanup());

  test.each(["core", "mes", "scada", "analytics"])(
    "%s has its own workspace",
    (id) => {
      const cloud = synth.stacks[id].terraform.cloud;
      expect(cloud.organization).toBe("acme");
      expect(cloud.workspaces.name).toBe(`proveit-${id}`);
      expect(synth.stacks[id].terraform.backend).toBeUndefined();
    },
  );

  test("mes reads core's workspace by name", () => {
    const lookup = Object.values<StackJson>(
      synth.stacks.mes.data.terraform_remote_state,
    )[0];
    expect(lookup.backend).toBe("remote");
    expect(lookup.config.organization).toBe("acme");
    expect(lookup.config.workspaces.name).toBe("proveit-core");
  });
});

describe("nginx start order", () => {
  test("nginx waits for no upstream container", () => {
    const synth = synthConfigFile(DEFAULT_CONFIG);
    for (const [id, stack] of Object.entries(synth.stacks)) {
      const nginx = Object.values(
        resourcesOfType(stack, "docker_container"),
      ).find((container) => container.name.endsWith("-nginx"))!;
      expect({ id, dependsOn: nginx.depends_on ?? [] }).toEqual({
        id,
        dependsOn: [],
      });
    }
    synth.cleanup();
  });
});
