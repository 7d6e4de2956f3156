import { readFileSync } from "node:fs";
import { ConfigError } from "../../lib/config/errors";
import { loadDeployment, parseDeployment } from "../../lib/config/load";
import { DEFAULT_CONFIG } from "../support/synth";

const DEFAULT_TEXT = readFileSync(DEFAULT_CONFIG, "utf8");

/** Returns the ConfigError that parsing the text raises; fails the test when it parses. */
function configErrorOf(
  text: string,
  environment: NodeJS.ProcessEnv = {},
): ConfigError {
  try {
    parseDeployment(text, "bad.yaml", environment);
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected the configuration to be rejected");
}

/** A minimal valid configuration: core alone, with its shared database and one gateway. */
const MINIMAL = `
domain: example.com
cloudflare: { enabled: false }
stacks:
  core:
    nginx: { containerName: proveit-core-nginx, hostPort: 8080 }
    databases:
      postgres:
        shared: true
        containerName: proveit-core-postgres
        pgbouncer: { containerName: proveit-core-pgbouncer, hostPort: 6432 }
    gateways:
      ignition:
        containerName: proveit-core-ignition-gateway
        ports: { http: 8088 }
`;

const WITH_SCADA = `${MINIMAL}
  scada:
    network: { name: scada-network, subnet: 10.213.3.0/24 }
    nginx: { containerName: proveit-scada-nginx, hostPort: 8084 }
    gateways:
      ignition:
        containerName: proveit-scada-ignition-gateway
        ports: { http: 8088 }
`;

describe("configuration validation", () => {
  test("shipped configurations are valid", () => {
    expect(() =>
      parseDeployment(DEFAULT_TEXT, "default.yaml", {}),
    ).not.toThrow();
  });

  test("minimal configuration is valid", () => {
    const deployment = parseDeployment(MINIMAL, "minimal.yaml", {});
    expect(deployment.stacks.map((stack) => stack.id)).toEqual(["core"]);
  });

  test("host port collision names both services", () => {
    const error = configErrorOf(WITH_SCADA);
    expect(error.issues).toHaveLength(1);
    const [issue] = error.issues;
    expect(issue.path).toEqual([
      "stacks",
      "scada",
      "gateways",
      "ignition",
      "ports",
      "http",
    ]);
    expect(issue.value).toBe(8088);
    expect(issue.message).toContain("proveit-scada-ignition-gateway");
    expect(issue.message).toContain("proveit-core-ignition-gateway");
    expect(issue.message).toContain("stacks.core.gateways.ignition.ports.http");
  });

  test("wrong type names path and value", () => {
    const error = configErrorOf(
      MINIMAL.replace("hostPort: 8080", "hostPort: eighty"),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "nginx",
      "hostPort",
    ]);
    expect(error.issues[0].value).toBe("eighty");
    expect(error.message).toContain("bad.yaml:6:");
  });

  test("misspelled key gets a suggestion", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "ports: { http: 8088 }",
        "ports: { http: 8088 }\n        replcias: 2",
      ),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "gateways",
      "ignition",
      "replcias",
    ]);
    expect(error.issues[0].fix).toMatch(/^did you mean replicas\?/);
  });

  test("unknown key lists allowed keys", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "domain: example.com",
        "domain: example.com\ncolour: blue",
      ),
    );
    expect(error.issues[0].fix).toContain(
      "allowed here: $schema, domain, hostnames",
    );
  });

  test("unknown key is rejected", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "ports: { http: 8088 }",
        "ports: { http: 8088 }\n        replica: 2",
      ),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "gateways",
      "ignition",
      "replica",
    ]);
    expect(error.issues[0].message).toBe("unknown key");
  });

  test("bad domain is rejected", () => {
    const error = configErrorOf(
      MINIMAL.replace("domain: example.com", "domain: Example_Com"),
    );
    expect(error.issues[0].path).toEqual(["domain"]);
    expect(error.issues[0].value).toBe("Example_Com");
    expect(error.issues[0].message).toContain("domain name");
  });

  test("bad public host label is rejected", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "ports: { http: 8088 }",
        "ports: { http: 8088 }\n        publicHost: -ignition",
      ),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "gateways",
      "ignition",
      "publicHost",
    ]);
    expect(error.issues[0].message).toContain("DNS label");
  });

  test("duplicate container name is rejected", () => {
    const error = configErrorOf(
      WITH_SCADA.replace(
        "containerName: proveit-scada-ignition-gateway\n        ports: { http: 8088 }",
        "containerName: proveit-core-ignition-gateway\n        ports: { http: 8091 }",
      ),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].path).toEqual([
      "stacks",
      "scada",
      "gateways",
      "ignition",
      "containerName",
    ]);
    expect(error.issues[0].message).toContain(
      "stacks.core.gateways.ignition.containerName",
    );
  });

  test("disabled core is rejected", () => {
    const text = WITH_SCADA.replace(
      "  core:\n",
      "  core:\n    enabled: false\n",
    ).replace("http: 8088 }\n", "http: 8091 }\n");
    const error = configErrorOf(
      text.replace(/ports: \{ http: 8088 \}$/m, "ports: { http: 8091 }"),
    );
    const paths = error.issues.map((issue) => issue.path.join("."));
    expect(paths).toContain("stacks.core.enabled");
    expect(error.message).toContain("scada");
  });

  test("image without tag is rejected", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "containerName: proveit-core-postgres",
        "containerName: proveit-core-postgres\n        image: postgres",
      ),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "databases",
      "postgres",
      "image",
    ]);
    expect(error.issues[0].message).toContain("tag");
  });

  test("malformed image is rejected", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "containerName: proveit-core-postgres",
        "containerName: proveit-core-postgres\n        image: 'Postgres::16'",
      ),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "databases",
      "postgres",
      "image",
    ]);
    expect(error.issues[0].value).toBe("Postgres::16");
  });

  test("latest tag is rejected", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "containerName: proveit-core-postgres",
        "containerName: proveit-core-postgres\n        image: postgres:latest",
      ),
    );
    expect(error.issues[0].message).toContain("latest");
  });

  test("every problem is reported at once", () => {
    const text = WITH_SCADA.replace("hostPort: 8080", "hostPort: 0").replace(
      "domain: example.com",
      "domain: 'not a domain'",
    );
    const error = configErrorOf(text);
    const paths = error.issues.map((issue) => issue.path.join("."));
    expect(paths).toContain("domain");
    expect(paths).toContain("stacks.core.nginx.hostPort");
    expect(error.message).toMatch(/\d+ problems/);
  });

  test("overlapping subnets are rejected", () => {
    const error = configErrorOf(
      WITH_SCADA.replace("10.213.3.0/24", "10.213.0.128/25").replace(
        /ports: \{ http: 8088 \}$/m,
        "ports: { http: 8091 }",
      ),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "scada",
      "network",
      "subnet",
    ]);
    expect(error.issues[0].message).toContain("overlaps");
  });

  test("pool without member number is rejected", () => {
    const error = configErrorOf(
      MINIMAL.replace(
        "ports: { http: 8088 }",
        "ports: { http: 8088 }\n        replicas: 3",
      ),
    );
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "gateways",
      "ignition",
      "containerName",
    ]);
    expect(error.issues[0].fix).toContain("{nn}");
  });

  test("credential in environment is rejected", () => {
    const text = `${MINIMAL}    services:
      grafana:
        image: grafana/grafana:12.1.1
        containerName: proveit-core-grafana
        environment: { GF_SECURITY_ADMIN_PASSWORD: hunter2 }
`;
    const error = configErrorOf(text);
    expect(error.issues[0].path).toEqual([
      "stacks",
      "core",
      "services",
      "grafana",
      "environment",
      "GF_SECURITY_ADMIN_PASSWORD",
    ]);
    expect(error.message).not.toContain("hunter2");
    expect(error.issues[0].fix).toContain("generatedSecrets");
  });

  test("cloud backend needs an organization", () => {
    const text = MINIMAL.replace(
      "cloudflare:",
      "backend: { type: cloud }\ncloudflare:",
    );
    const error = configErrorOf(text);
    expect(error.issues[0].path).toEqual(["backend", "organization"]);
    expect(() =>
      parseDeployment(text, "cloud.yaml", { TF_CLOUD_ORGANIZATION: "acme" }),
    ).not.toThrow();
  });

  test("malformed YAML gives its position", () => {
    const error = configErrorOf("domain: example.com\nstacks: [\n");
    expect(error.issues[0].message).toContain("not valid YAML");
    expect(error.issues[0].position).toMatch(/^\d+:\d+$/);
  });

  test("empty file is rejected", () => {
    const error = configErrorOf("");
    expect(error.issues[0].message).toBe("the file is empty");
  });

  test("duplicate YAML key is rejected", () => {
    const error = configErrorOf(
      `domain: example.com\ndomain: example.org\n${MINIMAL.replace("domain: example.com", "")}`,
    );
    expect(error.issues[0].message).toContain("not valid YAML");
  });

  test("missing file names the path", () => {
    expect(() => loadDeployment("configs/does-not-exist.yaml", {})).toThrow(
      /configs\/does-not-exist\.yaml[\s\S]*does not exist/,
    );
  });
});
