import type { Deployment, ServiceSpec, StackSpec } from "../config/model";
import type { HealthcheckConfig } from "../config/schema";
import type { SharedDatabase } from "../constructs/shared-database";
import { renderGrafanaDatasources } from "../integrations/grafana";
import {
  homepageAllowedHosts,
  renderHomepageServices,
  renderHomepageSettings,
} from "../integrations/homepage";
import {
  prometheusOnRoutingNetwork,
  renderPrometheusConfig,
  scrapeJobs,
} from "../integrations/prometheus";
import { basePathOf } from "../config/path-prefix";

/** Generated files and settings of a service of a known kind, besides its configured ones. */
export interface ServiceIntegration {
  /** Files written into the container. */
  readonly files: { readonly path: string; readonly content: string }[];
  /** Plain settings, added to the configured environment. */
  readonly environment: Record<string, string>;
  /** Values that are Terraform references to secrets, added to the environment. */
  readonly secretEnvironment: Record<string, string>;
  /** Also join routing-network, to reach every stack's cloudflared and exporters. */
  readonly routingNetwork: boolean;
  /**
   * Healthcheck used when the configuration sets none, because it depends on a generated setting.
   * @default - the configured healthcheck, or the image's own
   */
  readonly healthcheck?: HealthcheckConfig;
}

/** A database of the service's stack that a service may read. */
export interface StackDatabase {
  /** Key of the database entry in the configuration. */
  readonly key: string;
  /** Application databases on the server. */
  readonly names: readonly string[];
  /** The construct that owns the server and its roles. */
  readonly construct: SharedDatabase;
  /** Image of the server, whose tag gives the PostgreSQL major version. */
  readonly image: string;
  /** Whether the server has the TimescaleDB extension. */
  readonly timescaledb: boolean;
}

/** PostgreSQL major version from an image tag such as `postgres:17.6` or `timescale/timescaledb:2.19.3-pg17`. */
function postgresMajorVersion(image: string): number | undefined {
  const match = /-pg(\d+)/.exec(image) ?? /postgres(?:ql)?:(\d+)/.exec(image);
  return match ? Number(match[1]) : undefined;
}

const NO_INTEGRATION: ServiceIntegration = {
  files: [],
  environment: {},
  secretEnvironment: {},
  routingNetwork: false,
};

/**
 * Public URL of the service, or its local URL through nginx, used for links the
 * application generates. An application configured with a base path is served
 * under it on its public hostname too.
 */
function rootUrl(stack: StackSpec, service: ServiceSpec): string | undefined {
  const route = stack.routes.find((candidate) => candidate.key === service.key);
  if (route?.hostname && stack.tunnel) {
    const basePath = basePathOf(route) ?? "";
    return `https://${route.hostname}${basePath}/`;
  }
  const port = stack.nginx.ports[0];
  return route?.localPath && port
    ? `http://localhost:${port.external}${route.localPath}`
    : undefined;
}

function firstContainerPort(service: ServiceSpec, fallback: number): number {
  return service.ports[0]?.internal ?? fallback;
}

/**
 * Returns the generated files and settings of a service of a known kind:
 * Homepage lists every deployed service, Prometheus scrapes what the
 * deployment exposes, Grafana gets Prometheus and the stack's databases as
 * data sources.
 */
export function integrationFor(
  deployment: Deployment,
  stack: StackSpec,
  service: ServiceSpec,
  databases: readonly StackDatabase[],
): ServiceIntegration {
  switch (service.kind) {
    case "homepage":
      return {
        ...NO_INTEGRATION,
        files: [
          {
            path: "/app/config/services.yaml",
            content: renderHomepageServices(deployment),
          },
          {
            path: "/app/config/settings.yaml",
            content: renderHomepageSettings(deployment),
          },
        ],
        environment: {
          HOMEPAGE_ALLOWED_HOSTS: homepageAllowedHosts(stack, service.key).join(
            ",",
          ),
        },
      };
    case "prometheus": {
      const port = firstContainerPort(service, 9090);
      return {
        ...NO_INTEGRATION,
        files: [
          {
            path: "/etc/prometheus/prometheus.yml",
            content: renderPrometheusConfig(
              scrapeJobs(deployment, stack, port),
            ),
          },
        ],
        routingNetwork: prometheusOnRoutingNetwork(deployment),
      };
    }
    case "grafana": {
      const prometheus = stack.services.find(
        (candidate) => candidate.kind === "prometheus",
      );
      const secretEnvironment: Record<string, string> = {};
      const postgres = databases.flatMap((database) =>
        database.names.map((name) => {
          const connection = database.construct.connectionFor(name);
          const variable = `PROVEIT_DB_PASSWORD_${name.toUpperCase()}`;
          secretEnvironment[variable] = connection.password;
          return {
            name: `${database.key}-${name}`,
            address: `${connection.host}:${connection.port}`,
            database: name,
            user: connection.username,
            passwordVariable: variable,
            timescaledb: database.timescaledb,
            postgresVersion: postgresMajorVersion(database.image),
          };
        }),
      );
      const url = rootUrl(stack, service);
      const route = stack.routes.find(
        (candidate) => candidate.key === service.key,
      );
      const environment: Record<string, string> = url
        ? { GF_SERVER_ROOT_URL: url }
        : {};
      if (route && basePathOf(route)) {
        // Grafana then routes requests that keep the sub-path of GF_SERVER_ROOT_URL.
        environment.GF_SERVER_SERVE_FROM_SUB_PATH = "true";
      }
      return {
        ...NO_INTEGRATION,
        files: [
          {
            path: "/etc/grafana/provisioning/datasources/proveit.yaml",
            content: renderGrafanaDatasources({
              prometheusUrl: prometheus
                ? `http://${prometheus.alias}:${firstContainerPort(prometheus, 9090)}`
                : undefined,
              postgres,
            }),
          },
        ],
        environment,
        secretEnvironment,
      };
    }
    case "cloudbeaver": {
      // CloudBeaver's server configuration reads rootURI from CLOUDBEAVER_ROOT_URI, without a trailing slash.
      const route = stack.routes.find(
        (candidate) => candidate.key === service.key,
      );
      const basePath = route ? basePathOf(route) : undefined;
      return {
        ...NO_INTEGRATION,
        environment: basePath ? { CLOUDBEAVER_ROOT_URI: basePath } : {},
        // The image is Ubuntu-based with curl; the web UI responds under the root URI once the server is up.
        healthcheck: {
          test: [
            "CMD",
            "curl",
            "-fsS",
            "-o",
            "/dev/null",
            `http://127.0.0.1:${firstContainerPort(service, 8978)}${basePath ?? ""}/`,
          ],
          startPeriodSeconds: 60,
        },
      };
    }
    default:
      return NO_INTEGRATION;
  }
}
