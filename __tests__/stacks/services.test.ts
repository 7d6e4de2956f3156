import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { ConfigError } from "../../lib/config/errors";
import { parseDeployment } from "../../lib/config/load";
import {
  renderMermaid,
  renderTable,
  topologyRows,
} from "../../lib/integrations/topology";
import {
  containerNamed,
  FULL_CONFIG,
  resourcesOfType,
  StackJson,
  synthConfigFile,
  synthConfigText,
  SynthResult,
} from "../support/synth";

const FULL_TEXT = readFileSync(FULL_CONFIG, "utf8");

/** Network names a container joins, with core's network references shown as their names. */
function networksOf(container: StackJson): string[] {
  return container.networks_advanced.map((network: { name: string }) => {
    if (network.name.includes("operations-network")) {
      return "operations-network";
    }
    if (network.name.includes("routing-network")) {
      return "routing-network";
    }
    return network.name === "${docker_network.network.name}"
      ? "stack-network"
      : network.name;
  });
}

function uploadedFile(container: StackJson, file: string): string {
  const upload = (container.upload ?? []).find(
    (entry: { file: string }) => entry.file === file,
  );
  if (!upload) {
    throw new Error(`${container.name} has no upload ${file}`);
  }
  return upload.content;
}

describe("full deployment services", () => {
  let synth: SynthResult;

  beforeAll(() => {
    synth = synthConfigFile(FULL_CONFIG);
  });

  afterAll(() => synth.cleanup());

  test("every gateway joins operations-network", () => {
    for (const stack of synth.deployment.stacks) {
      for (const gateway of stack.gateways) {
        const container = containerNamed(
          synth.stacks[stack.id],
          gateway.containerName,
        )!;
        expect({
          gateway: gateway.containerName,
          networks: networksOf(container),
        }).toEqual({
          gateway: gateway.containerName,
          networks: expect.arrayContaining(["operations-network"]),
        });
      }
    }
  });

  test("every nginx and cloudflared joins routing-network", () => {
    for (const stack of synth.deployment.stacks) {
      for (const name of [
        stack.nginx.containerName,
        ...(stack.tunnel ? [stack.tunnel.containerName] : []),
      ]) {
        const container = containerNamed(synth.stacks[stack.id], name)!;
        expect({ name, networks: networksOf(container) }).toEqual({
          name,
          networks: expect.arrayContaining(["routing-network"]),
        });
      }
    }
  });

  test("databases stay on their own network", () => {
    for (const stack of synth.deployment.stacks) {
      for (const database of stack.databases) {
        for (const name of [
          database.containerName,
          database.pgbouncer?.containerName,
        ].filter(Boolean) as string[]) {
          const container = containerNamed(synth.stacks[stack.id], name)!;
          const expected =
            stack.id === "core" ? ["operations-network"] : ["stack-network"];
          expect({ name, networks: networksOf(container) }).toEqual({
            name,
            networks: expected,
          });
        }
      }
    }
  });

  test("SQL Server joins no shared network", () => {
    const mssql = containerNamed(
      synth.stacks.analytics,
      "proveit-analytics-mssql",
    )!;
    expect(networksOf(mssql)).toEqual(["stack-network"]);
  });

  test("homepage lists exactly the enabled services", () => {
    const homepage = containerNamed(
      synth.stacks.utility,
      "proveit-utility-homepage",
    )!;
    const groups = parse(
      uploadedFile(homepage, "/app/config/services.yaml"),
    ) as Record<string, Record<string, unknown>[]>[];
    const listed = groups.flatMap((group) =>
      Object.entries(group).flatMap(([stack, entries]) =>
        entries.map((entry) => `${stack}/${Object.keys(entry)[0]}`),
      ),
    );
    const expected = synth.deployment.stacks.flatMap((stack) => [
      ...stack.gateways.map((gateway) => `${stack.id}/${gateway.key}`),
      ...stack.services.map((service) => `${stack.id}/${service.key}`),
      ...stack.databases.flatMap((database) => [
        `${stack.id}/${database.key}`,
        ...(database.pgbouncer
          ? [`${stack.id}/${database.pgbouncer.key}`]
          : []),
      ]),
    ]);
    expect(listed.sort()).toEqual(expected.sort());
  });

  test("homepage links use public hostnames", () => {
    const homepage = containerNamed(
      synth.stacks.utility,
      "proveit-utility-homepage",
    )!;
    const text = uploadedFile(homepage, "/app/config/services.yaml");
    expect(text).toContain("href: https://ignition.core.example.com");
    expect(text).toContain("href: https://uptime.monitor.example.com");
  });

  test("homepage accepts its public hostname", () => {
    const homepage = containerNamed(
      synth.stacks.utility,
      "proveit-utility-homepage",
    )!;
    const allowed = homepage.env.find((entry: string) =>
      entry.startsWith("HOMEPAGE_ALLOWED_HOSTS="),
    );
    expect(allowed).toContain("homepage.utility.example.com");
    expect(allowed).toContain("localhost:8081");
  });

  test("prometheus scrapes every cloudflared", () => {
    const prometheus = containerNamed(
      synth.stacks.analytics,
      "proveit-analytics-prometheus",
    )!;
    const config = parse(
      uploadedFile(prometheus, "/etc/prometheus/prometheus.yml"),
    );
    const jobs = Object.fromEntries(
      config.scrape_configs.map((job: StackJson) => [
        job.job_name,
        job.static_configs[0].targets,
      ]),
    );
    const published = synth.deployment.stacks
      .filter((stack) => stack.tunnel)
      .map((stack) => `${stack.id}-cloudflared:20241`);
    expect(jobs.cloudflared).toEqual(published);
    expect(jobs.grafana).toEqual(["grafana:3000"]);
    expect(networksOf(prometheus)).toContain("routing-network");
  });

  test("prometheus scrapes every exporter", () => {
    const prometheus = containerNamed(
      synth.stacks.analytics,
      "proveit-analytics-prometheus",
    )!;
    const config = parse(
      uploadedFile(prometheus, "/etc/prometheus/prometheus.yml"),
    );
    const jobs = Object.fromEntries(
      config.scrape_configs.map((job: StackJson) => [
        job.job_name,
        job.static_configs[0].targets,
      ]),
    );
    const nginx = synth.deployment.stacks.map(
      (stack) => `${stack.id}-nginx-exporter:9113`,
    );
    expect(jobs.nginx).toEqual(nginx);
    expect(jobs.pgbouncer).toEqual([
      "core-postgres-pgbouncer-exporter:9127",
      "mes-timescaledb-pgbouncer-exporter:9127",
    ]);
  });

  test("every stack runs an nginx exporter", () => {
    for (const stack of synth.deployment.stacks) {
      const exporter = containerNamed(
        synth.stacks[stack.id],
        `${stack.nginx.containerName}-exporter`,
      )!;
      expect({ stack: stack.id, command: exporter.command }).toEqual({
        stack: stack.id,
        command: [
          `--nginx.scrape-uri=http://${stack.id}-nginx:8080/nginx-status`,
        ],
      });
      expect(networksOf(exporter)).toEqual(["routing-network"]);
    }
  });

  test("pgbouncer exporter logs in as stats user", () => {
    const exporter = containerNamed(
      synth.stacks.core,
      "proveit-core-pgbouncer-exporter",
    )!;
    const connection = exporter.env.find((entry: string) =>
      entry.startsWith("PGBOUNCER_EXPORTER_CONNECTION_STRING="),
    );
    expect(connection).toMatch(
      /^PGBOUNCER_EXPORTER_CONNECTION_STRING=postgres:\/\/pgbouncer_stats:\$\{random_password\.[^}]+\.result\}@pgbouncer:5432\/pgbouncer\?sslmode=disable$/,
    );
    expect(networksOf(exporter)).toEqual([
      "operations-network",
      "routing-network",
    ]);
    expect(exporter.healthcheck.test).toEqual([
      "CMD",
      "wget",
      "-q",
      "-O",
      "/dev/null",
      "http://127.0.0.1:9127/metrics",
    ]);
  });

  test("pgbouncer lists the stats user", () => {
    const pgbouncer = containerNamed(
      synth.stacks.mes,
      "proveit-mes-pgbouncer",
    )!;
    expect(uploadedFile(pgbouncer, "/etc/pgbouncer/pgbouncer.ini")).toMatch(
      /^stats_users = pgbouncer_stats$/m,
    );
    expect(uploadedFile(pgbouncer, "/etc/pgbouncer/userlist.txt")).toMatch(
      /^"pgbouncer_stats" "\$\{random_password\.[^}]+\.result\}"$/m,
    );
  });

  test("prometheus stays off operations-network", () => {
    const prometheus = containerNamed(
      synth.stacks.analytics,
      "proveit-analytics-prometheus",
    )!;
    expect(networksOf(prometheus)).toEqual([
      "stack-network",
      "routing-network",
    ]);
  });

  test.each([
    [
      "analytics",
      "proveit-analytics-mssql",
      [
        "CMD-SHELL",
        expect.stringMatching(
          /^\/opt\/mssql-tools18\/bin\/sqlcmd .*-P "\$MSSQL_SA_PASSWORD"/,
        ),
      ],
    ],
    [
      "utility",
      "proveit-utility-mqtt-explorer",
      ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:4000/"],
    ],
    [
      "utility",
      "proveit-utility-dbeaver",
      [
        "CMD",
        "curl",
        "-fsS",
        "-o",
        "/dev/null",
        "http://127.0.0.1:8978/dbeaver/",
      ],
    ],
  ])("%s %s healthcheck", (stackId, name, test) => {
    const container = containerNamed(synth.stacks[stackId], name)!;
    expect(container.healthcheck.test).toEqual(test);
  });

  test.each([
    ["utility", "proveit-utility-homepage"],
    ["monitoring", "proveit-monitoring-uptime-kuma"],
  ])("%s %s keeps image healthcheck", (stackId, name) => {
    const container = containerNamed(synth.stacks[stackId], name)!;
    expect(container.healthcheck).toBeUndefined();
  });

  test("cloudbeaver runs under its path", () => {
    const dbeaver = containerNamed(
      synth.stacks.utility,
      "proveit-utility-dbeaver",
    )!;
    expect(dbeaver.env).toContain("CLOUDBEAVER_ROOT_URI=/dbeaver");
  });

  test("uptime kuma output lists monitors", () => {
    const monitors =
      synth.stacks.monitoring.output["uptime-kuma-monitors"].value;
    const hostnames = synth.deployment.stacks
      .filter((stack) => stack.tunnel)
      .flatMap((stack) => stack.routes.filter((route) => route.hostname));
    expect(monitors).toHaveLength(hostnames.length);
    expect(monitors).toContainEqual({
      name: "utility/dbeaver",
      url: "https://dbeaver.utility.example.com/",
      acceptedStatusCodes: "200-299",
    });
  });

  test("grafana gets both data sources", () => {
    const grafana = containerNamed(
      synth.stacks.analytics,
      "proveit-analytics-grafana",
    )!;
    const config = parse(
      uploadedFile(
        grafana,
        "/etc/grafana/provisioning/datasources/proveit.yaml",
      ),
    );
    const types = config.datasources.map((source: StackJson) => source.type);
    expect(types).toEqual(["prometheus", "grafana-postgresql-datasource"]);
    const password = config.datasources[1].secureJsonData.password;
    expect(password).toMatch(/^\$[A-Z_]+$/);
    const variable = grafana.env.find((entry: string) =>
      entry.startsWith(`${password.slice(1)}=`),
    );
    expect(variable).toMatch(/=\$\{random_password\.[^}]+\.result\}$/);
  });

  test("mes frontends connect to the backend", () => {
    const frontend = containerNamed(
      synth.stacks.mes,
      "proveit-mes-ignition-frontend-01",
    )!;
    expect(frontend.env).toContain(
      "GATEWAY_NETWORK_0_HOST=mes-ignition-backend",
    );
    expect(frontend.env).toContain("GATEWAY_NETWORK_0_PORT=8060");
  });

  test("topology table lists every container", () => {
    const containers = Object.values(synth.stacks).flatMap((stack) =>
      Object.values(resourcesOfType(stack, "docker_container"))
        .map((container) => container.name as string)
        .filter((name) => !name.endsWith("-init")),
    );
    const rows = topologyRows(synth.deployment).map((row) => row.containerName);
    expect(rows.sort()).toEqual(containers.sort());
    const table = renderTable(synth.deployment);
    expect(table).toContain("proveit-edge-fuuz-gateway");
    expect(table).toContain("127.0.0.1:5500-5550");
  });

  test("topology networks match the Terraform", () => {
    for (const stack of synth.deployment.stacks) {
      const ownNetwork =
        stack.id === "core" ? "operations-network" : "stack-network";
      for (const row of topologyRows(synth.deployment).filter(
        (candidate) => candidate.stack === stack.id,
      )) {
        const container = containerNamed(
          synth.stacks[stack.id],
          row.containerName,
        )!;
        const expected = row.networks.map((name) =>
          name === stack.network.name ? ownNetwork : name,
        );
        expect({
          container: row.containerName,
          networks: [...networksOf(container)].sort(),
        }).toEqual({
          container: row.containerName,
          networks: [...expected].sort(),
        });
      }
    }
  });

  test("topology diagram is Mermaid", () => {
    const diagram = renderMermaid(synth.deployment);
    expect(diagram.startsWith("flowchart LR\n")).toBe(true);
    expect(diagram).toContain('subgraph stack_monitoring["monitoring stack"]');
    expect(diagram).toContain("proveit_mes_nginx --- net_routing_network");
  });
});

describe("gateway pool", () => {
  let synth: SynthResult;

  beforeAll(() => {
    synth = synthConfigText(
      FULL_TEXT.replace(
        "replicas: 1\n        containerName: proveit-mes",
        "replicas: 5\n        containerName: proveit-mes",
      ),
    );
  });

  afterAll(() => synth.cleanup());

  test("five frontends make five gateways", () => {
    const names = Object.values(
      resourcesOfType(synth.stacks.mes, "docker_container"),
    ).map((container) => container.name);
    for (let member = 1; member <= 5; member++) {
      expect(names).toContain(`proveit-mes-ignition-frontend-0${member}`);
    }
  });

  test("five frontends get five databases", () => {
    const databases = Object.keys(
      resourcesOfType(synth.stacks.core, "random_password"),
    ).filter((id) => id.includes("password-mes_ignition_frontend_"));
    expect(databases).toHaveLength(5);
  });

  test("one nginx pool has five members", () => {
    const nginx = containerNamed(synth.stacks.mes, "proveit-mes-nginx")!;
    const config: string = uploadedFile(nginx, "/etc/nginx/nginx.conf");
    const pool = config.match(
      /upstream mes_ignition_frontend \{[\s\S]*?\n  \}/,
    )![0];
    expect(pool.match(/^\s+server /gm)).toHaveLength(5);
    expect(pool).toContain("hash $remote_addr consistent;");
  });

  test("only the first member publishes ports", () => {
    const second = containerNamed(
      synth.stacks.mes,
      "proveit-mes-ignition-frontend-02",
    )!;
    expect(second.ports ?? []).toEqual([]);
  });
});

describe("metrics off", () => {
  const deployment = parseDeployment(
    FULL_TEXT.replace(
      "networks:\n",
      "metrics: { enabled: false }\nnetworks:\n",
    ),
    "test.yaml",
    {},
  );

  test("no stack has exporters", () => {
    expect(deployment.stacks.flatMap((stack) => stack.exporters)).toEqual([]);
  });

  test("pgbouncers have no stats user", () => {
    const pgbouncers = deployment.stacks.flatMap((stack) =>
      stack.databases.flatMap((database) =>
        database.pgbouncer ? [database.pgbouncer] : [],
      ),
    );
    expect(pgbouncers.map((pgbouncer) => pgbouncer.statsUser)).toEqual([
      false,
      false,
    ]);
  });
});

describe("gateway connections", () => {
  test("unknown target is rejected", () => {
    const text = FULL_TEXT.replace(
      "connections: [mes/ignition-backend]",
      "connections: [mes/ignition-backstage]",
    );
    expect(() => parseDeployment(text, "bad.yaml", {})).toThrow(ConfigError);
    try {
      parseDeployment(text, "bad.yaml", {});
    } catch (error) {
      const issue = (error as ConfigError).issues[0];
      expect(issue.path).toEqual([
        "stacks",
        "mes",
        "gateways",
        "ignition-frontend",
        "connections",
        0,
      ]);
      expect(issue.value).toBe("mes/ignition-backstage");
    }
  });

  test("stack on another Docker host is rejected", () => {
    const text = FULL_TEXT.replace(
      "  scada:\n",
      "  scada:\n    dockerHost: ssh://ops@docker-2\n",
    ).replace(
      "connections: [mes/ignition-backend]",
      "connections: [mes/ignition-backend, scada/ignition]",
    );
    try {
      parseDeployment(text, "bad.yaml", {});
      throw new Error("expected a ConfigError");
    } catch (error) {
      const issue = (error as ConfigError).issues[0];
      expect(issue.path).toEqual(["stacks", "scada", "dockerHost"]);
      expect(issue.message).toContain("Docker networks do not span hosts");
    }
  });
});

describe("cloudflare off", () => {
  let synth: SynthResult;

  beforeAll(() => {
    synth = synthConfigText(
      FULL_TEXT.replace(
        "cloudflare:\n  enabled: true",
        "cloudflare:\n  enabled: false",
      ),
    );
  });

  afterAll(() => synth.cleanup());

  test("gateways advertise no public address", () => {
    const gateway = containerNamed(
      synth.stacks.core,
      "proveit-core-ignition-gateway",
    )!;
    expect(gateway.command).not.toContain("-a");
  });

  test("urls list only local addresses", () => {
    const urls: Record<string, string> = synth.stacks.core.output.urls.value;
    expect(Object.keys(urls).filter((key) => key.endsWith("-public"))).toEqual(
      [],
    );
    expect(urls["ignition-local"]).toBe("http://localhost:8080/");
  });

  test("homepage links local addresses", () => {
    const homepage = containerNamed(
      synth.stacks.utility,
      "proveit-utility-homepage",
    )!;
    const text = uploadedFile(homepage, "/app/config/services.yaml");
    expect(text).not.toContain("https://");
    expect(text).toContain("href: http://localhost:8080/");
  });
});
