import { Construct } from "constructs";
import { NGINX_LOCAL_PORT } from "../config/defaults";
import type { ExporterSpec, StackSpec } from "../config/model";
import { ContainerImage } from "../constructs/container-image";
import { wgetTest } from "../constructs/container-defaults";
import { ServiceContainer } from "../constructs/service-container";
import type { SharedDatabase } from "../constructs/shared-database";
import { PGBOUNCER_STATS_USER } from "../rendering/pgbouncer";
import { NGINX_STATUS_PATH } from "../rendering/nginx-conf";

/** Names and constructs of the stack that its exporters read from. */
export interface ExporterTargets {
  /** Name of the stack network, which PgBouncer sits on. */
  readonly stackNetworkName: string;
  /** Name of routing-network, where Prometheus reaches every exporter. */
  readonly routingNetworkName: string;
  /** The stack's databases by configuration key. */
  readonly databases: ReadonlyMap<string, SharedDatabase>;
}

/** Scrape URL of the stack's nginx stub_status, through its alias on routing-network. */
export function nginxStatusUrl(stack: StackSpec): string {
  return `http://${stack.nginx.sharedAlias}:${NGINX_LOCAL_PORT}${NGINX_STATUS_PATH}`;
}

/**
 * Creates the stack's Prometheus exporters. The nginx exporter reads the stack
 * nginx's stub_status over routing-network. Each PgBouncer exporter joins the
 * network its PgBouncer sits on and logs in as the stats user, so Prometheus
 * needs no access to operations-network or a stack network.
 */
export function addExporters(
  scope: Construct,
  stack: StackSpec,
  targets: ExporterTargets,
): ServiceContainer[] {
  return stack.exporters.map((exporter) => {
    const routing = {
      name: targets.routingNetworkName,
      aliases: [exporter.sharedAlias],
    };
    if (exporter.kind === "nginx") {
      // The image has no shell or HTTP client, so the container has no healthcheck.
      return new ServiceContainer(scope, `exporter-${exporter.key}`, {
        containerName: exporter.containerName,
        image: ContainerImage.fromRegistry(exporter.image),
        networks: [routing],
        // The exporter listens on its default port, NGINX_EXPORTER_PORT.
        command: [`--nginx.scrape-uri=${nginxStatusUrl(stack)}`],
      });
    }
    return new ServiceContainer(scope, `exporter-${exporter.key}`, {
      containerName: exporter.containerName,
      image: ContainerImage.fromRegistry(exporter.image),
      networks: [
        { name: targets.stackNetworkName, aliases: [exporter.key] },
        routing,
      ],
      environment: {
        PGBOUNCER_EXPORTER_CONNECTION_STRING: pgbouncerConnectionString(
          stack,
          exporter,
          targets,
        ),
      },
      // The image is built on busybox, whose wget runs the healthcheck.
      healthcheck: {
        test: wgetTest(`http://127.0.0.1:${exporter.port}/metrics`),
        startPeriodSeconds: 10,
      },
    });
  });
}

function pgbouncerConnectionString(
  stack: StackSpec,
  exporter: ExporterSpec,
  targets: ExporterTargets,
): string {
  const spec = stack.databases.find(
    (database) => database.key === exporter.databaseKey,
  );
  const database = exporter.databaseKey
    ? targets.databases.get(exporter.databaseKey)
    : undefined;
  if (!spec?.pgbouncer || !database?.pgbouncerStatsPassword) {
    throw new Error(
      `Exporter ${exporter.containerName} reads a PgBouncer that has no stats user; this is a bug in the resolved model.`,
    );
  }
  return `postgres://${PGBOUNCER_STATS_USER}:${database.pgbouncerStatsPassword}@${spec.pgbouncer.alias}:5432/pgbouncer?sslmode=disable`;
}
