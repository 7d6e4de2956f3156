import { readFileSync } from "node:fs";
import { ConfigError } from "../../lib/config/errors";
import { parseDeployment } from "../../lib/config/load";
import type { Deployment, RouteSpec } from "../../lib/config/model";
import { integrationFor } from "../../lib/stacks/service-integrations";
import { FULL_CONFIG } from "../support/synth";

const FULL_TEXT = readFileSync(FULL_CONFIG, "utf8");

function routeOf(
  deployment: Deployment,
  stackId: string,
  key: string,
): RouteSpec {
  const route = deployment.stacks
    .find((stack) => stack.id === stackId)
    ?.routes.find((candidate) => candidate.key === key);
  if (!route) {
    throw new Error(`no route ${stackId}/${key}`);
  }
  return route;
}

function configErrorOf(text: string): ConfigError {
  try {
    parseDeployment(text, "bad.yaml", {});
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected the configuration to be rejected");
}

describe("path prefix of full.yaml routes", () => {
  const deployment = parseDeployment(FULL_TEXT, "full.yaml", {});

  test.each([
    ["core", "ignition", "keep", undefined],
    ["core", "highbyte", "redirect", 45245],
    ["mes", "ignition-backend", "redirect", 8090],
    ["mes", "ignition-frontend", "keep", undefined],
    ["edge", "fuuz-gateway", "redirect", 5500],
    ["utility", "homepage", "keep", undefined],
    ["utility", "dbeaver", "keep", undefined],
    ["utility", "mqtt-explorer", "redirect", 4000],
    ["monitoring", "uptime-kuma", "keep", undefined],
  ])("%s/%s is %s", (stackId, key, mode, port) => {
    const route = routeOf(deployment, stackId, key);
    expect(route.pathPrefix).toBe(mode);
    expect(route.redirectPort).toBe(port);
  });

  test("cloudbeaver gets its root URI", () => {
    const utility = deployment.stacks.find((stack) => stack.id === "utility")!;
    const dbeaver = utility.services.find(
      (service) => service.key === "dbeaver",
    )!;
    const integration = integrationFor(deployment, utility, dbeaver, []);
    expect(integration.environment).toEqual({
      CLOUDBEAVER_ROOT_URI: "/dbeaver",
    });
  });

  test("cloudbeaver healthcheck uses the root URI", () => {
    const utility = deployment.stacks.find((stack) => stack.id === "utility")!;
    const dbeaver = utility.services.find(
      (service) => service.key === "dbeaver",
    )!;
    const integration = integrationFor(deployment, utility, dbeaver, []);
    expect(integration.healthcheck?.test).toEqual([
      "CMD",
      "curl",
      "-fsS",
      "-o",
      "/dev/null",
      "http://127.0.0.1:8978/dbeaver/",
    ]);
  });
});

describe("path prefix defaults", () => {
  test("homepage on a sub-path redirects", () => {
    const text = FULL_TEXT.replace(
      "publicHost: homepage\n        localPath: /",
      "publicHost: homepage\n        localPath: /home/",
    );
    const route = routeOf(
      parseDeployment(text, "test.yaml", {}),
      "utility",
      "homepage",
    );
    expect(route.pathPrefix).toBe("redirect");
    expect(route.redirectPort).toBe(3000);
  });

  test("explicit strip overrides kind default", () => {
    const text = FULL_TEXT.replace(
      "localPath: /dbeaver/",
      "localPath: /dbeaver/\n        pathPrefix: strip",
    );
    const route = routeOf(
      parseDeployment(text, "test.yaml", {}),
      "utility",
      "dbeaver",
    );
    expect(route.pathPrefix).toBe("strip");
  });

  test("grafana on a sub-path serves it", () => {
    const text = FULL_TEXT.replace(
      "publicHost: grafana\n        localPath: /",
      "publicHost: grafana\n        localPath: /grafana/",
    );
    const deployment = parseDeployment(text, "test.yaml", {});
    const analytics = deployment.stacks.find(
      (stack) => stack.id === "analytics",
    )!;
    const grafana = analytics.services.find(
      (service) => service.key === "grafana",
    )!;
    const integration = integrationFor(deployment, analytics, grafana, []);
    expect(routeOf(deployment, "analytics", "grafana").pathPrefix).toBe("keep");
    expect(integration.environment.GF_SERVER_SERVE_FROM_SUB_PATH).toBe("true");
    expect(integration.environment.GF_SERVER_ROOT_URL).toBe(
      "https://grafana.analytics.example.com/grafana/",
    );
  });

  test("grafana at the root has no sub-path", () => {
    const deployment = parseDeployment(FULL_TEXT, "full.yaml", {});
    const analytics = deployment.stacks.find(
      (stack) => stack.id === "analytics",
    )!;
    const grafana = analytics.services.find(
      (service) => service.key === "grafana",
    )!;
    const integration = integrationFor(deployment, analytics, grafana, []);
    expect(
      integration.environment.GF_SERVER_SERVE_FROM_SUB_PATH,
    ).toBeUndefined();
    expect(integration.environment.GF_SERVER_ROOT_URL).toBe(
      "https://grafana.analytics.example.com/",
    );
  });
});

describe("path prefix validation", () => {
  test("redirect without host port is rejected", () => {
    const text = FULL_TEXT.replace(
      "ports: [{ container: 4000, host: 4000 }]",
      "ports: [{ container: 4000 }]",
    );
    const issue = configErrorOf(text).issues[0];
    expect(issue.path).toEqual([
      "stacks",
      "utility",
      "services",
      "mqtt-explorer",
      "pathPrefix",
    ]);
    expect(issue.value).toBe("redirect");
    expect(issue.fix).toContain("{ container: 4000, host: <free port> }");
  });

  test("default redirect names localPath", () => {
    const text = FULL_TEXT.replace(
      "ports: [{ container: 3000, host: 3000 }]\n        publicHost: homepage\n        localPath: /",
      "ports: [{ container: 3000 }]\n        publicHost: homepage\n        localPath: /home/",
    );
    const issue = configErrorOf(text).issues[0];
    expect(issue.path).toEqual([
      "stacks",
      "utility",
      "services",
      "homepage",
      "localPath",
    ]);
    expect(issue.message).toContain("kind homepage");
  });

  test("gateway sub-path without http port is rejected", () => {
    const text = FULL_TEXT.replace(
      "ports: { http: 8090, gan: 8047, https: 8062 }",
      "ports: { gan: 8047, https: 8062 }",
    );
    const issue = configErrorOf(text).issues[0];
    expect(issue.path).toEqual([
      "stacks",
      "mes",
      "gateways",
      "ignition-backend",
      "localPath",
    ]);
    expect(issue.fix).toContain("ports.http");
  });

  test("pathPrefix without localPath is rejected", () => {
    const text = FULL_TEXT.replace(
      "image: prom/prometheus:v3.5.0",
      "image: prom/prometheus:v3.5.0\n        pathPrefix: keep",
    );
    const issue = configErrorOf(text).issues[0];
    expect(issue.path).toEqual([
      "stacks",
      "analytics",
      "services",
      "prometheus",
      "pathPrefix",
    ]);
  });
});
