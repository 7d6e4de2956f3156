import { Network } from "@cdktf/provider-docker/lib/network";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { Annotations, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type {
  Deployment,
  NetworkSpec,
  PublishedPort,
  StackSpec,
} from "../config/model";
import { NGINX_PUBLIC_PORT } from "../config/defaults";
import { ContainerImage } from "../constructs/container-image";
import { EdgeCertificatePack } from "../constructs/edge-certificate-pack";
import {
  HostPortMapping,
  NetworkAttachment,
} from "../constructs/container-defaults";
import { IgnitionGateway } from "../constructs/ignition-gateway";
import { ServiceContainer } from "../constructs/service-container";
import { SharedDatabase } from "../constructs/shared-database";
import { StackNginx } from "../constructs/stack-nginx";
import { TunnelStack } from "../constructs/tunnel-stack";
import { BackendLocation, configureBackend } from "./backend";
import { CloudflareAccount } from "./cloudflare-account";
import { integrationFor } from "./service-integrations";
import { addExporters } from "./stack-exporters";
import { uptimeKumaMonitors } from "../integrations/uptime-kuma";

/** Properties of a {@link PlatformStack}. */
export interface PlatformStackProps {
  /** The whole resolved deployment, as `loadDeployment` returns it. */
  readonly deployment: Deployment;

  /** This stack's entry of `deployment.stacks`; its id becomes the stack id. */
  readonly spec: StackSpec;

  /** Project and output folders, which the local backend's state paths are relative to. */
  readonly backend: BackendLocation;

  /**
   * The core stack, whose networks and shared database this stack uses.
   * @default - this stack is core
   */
  readonly core?: PlatformStack;
}

function toHostPorts(ports: readonly PublishedPort[]): HostPortMapping[] {
  return ports.map((port) => ({
    internal: port.internal,
    external: port.external,
    ip: port.ip,
    protocol: port.protocol,
  }));
}

function createNetwork(
  scope: Construct,
  id: string,
  spec: NetworkSpec,
): Network {
  return new Network(scope, id, {
    name: spec.name,
    driver: "bridge",
    attachable: true,
    ipamConfig: [
      {
        subnet: spec.subnet,
        gateway: spec.gateway,
        ipRange: spec.dynamicRange,
      },
    ],
  });
}

/**
 * One platform stack with its own Terraform state: its network, databases,
 * Ignition gateways, services, nginx and tunnel. The core stack also creates
 * operations-network, routing-network and the shared database; every other
 * stack takes those from core through cross-stack references.
 *
 * `buildPlatform` creates one per enabled stack; its `Map` return value gives
 * access to each stack, to add your own constructs to it.
 *
 * @example
 * ```ts
 * import { App } from "cdktf";
 * import { buildPlatform, ContainerImage, loadDeployment, ServiceContainer } from "proveit-stacks";
 *
 * const app = new App();
 * const stacks = buildPlatform(app, loadDeployment("configs/default.yaml"));
 * const mes = stacks.get("mes");
 * if (mes) {
 *   new ServiceContainer(mes, "whoami", {
 *     containerName: "proveit-mes-whoami",
 *     image: ContainerImage.fromRegistry("traefik/whoami:v1.10.4"),
 *     networks: [{ name: mes.stackNetworkName }],
 *   });
 * }
 * app.synth();
 * ```
 */
export class PlatformStack extends TerraformStack {
  /** The resolved specification this stack was built from. */
  public readonly spec: StackSpec;

  /** Name of operations-network, as a reference to core's network resource. */
  public readonly operationsNetworkName: string;
  /** Name of routing-network, as a reference to core's network resource. */
  public readonly routingNetworkName: string;
  /** Name of the stack's own network; on core, operations-network. */
  public readonly stackNetworkName: string;
  /** Core's database that every Ignition gateway uses; set on core only. */
  public readonly sharedDatabase?: SharedDatabase;
  /** The stack's Ignition gateways, in configuration order, with one entry per pool member. */
  public readonly gateways: IgnitionGateway[] = [];
  /** The stack's service containers, in configuration order. */
  public readonly services: ServiceContainer[] = [];
  /** The stack's Prometheus exporters: its nginx's, then one per PgBouncer; empty when metrics are off. */
  public readonly exporters: ServiceContainer[];
  /** The stack's databases, including the shared one on core. */
  public readonly databases: SharedDatabase[] = [];
  /** The stack's nginx reverse proxy. */
  public readonly nginx: StackNginx;
  /** The stack's Cloudflare tunnel; unset when Cloudflare is turned off for this stack. */
  public readonly tunnel?: TunnelStack;
  /** The edge certificate pack of the deployment; set on core only, when the deployment needs one. */
  public readonly certificates?: EdgeCertificatePack;

  constructor(scope: Construct, props: PlatformStackProps) {
    super(scope, props.spec.id);
    const { deployment, spec, core } = props;
    this.spec = spec;
    configureBackend(this, spec.id, deployment.backend, props.backend);
    new DockerProvider(this, "docker", { host: spec.dockerHost });
    new RandomProvider(this, "random");

    if (core) {
      // Explicit, so the deploy order holds even where no value of core is referenced.
      this.addDependency(core);
      this.operationsNetworkName = core.operationsNetworkName;
      this.routingNetworkName = core.routingNetworkName;
      this.stackNetworkName = createNetwork(this, "network", spec.network).name;
    } else {
      this.operationsNetworkName = createNetwork(
        this,
        "operations-network",
        deployment.operationsNetwork,
      ).name;
      this.routingNetworkName = createNetwork(
        this,
        "routing-network",
        deployment.routingNetwork,
      ).name;
      this.stackNetworkName = this.operationsNetworkName;
    }
    const onStackNetwork = (
      aliases: string[],
      ipv4Address: string,
    ): NetworkAttachment => ({
      name: this.stackNetworkName,
      aliases,
      ipv4Address,
    });
    const onOperationsNetwork = (alias: string): NetworkAttachment[] =>
      core ? [{ name: this.operationsNetworkName, aliases: [alias] }] : [];

    for (const database of spec.databases) {
      const clients = database.shared
        ? sharedDatabaseClients(deployment, database.databases)
        : [...database.databases];
      const construct = new SharedDatabase(this, `database-${database.key}`, {
        postgres: {
          containerName: database.containerName,
          image: ContainerImage.fromRegistry(database.image),
          volumeName: database.volume,
          hostPort: toHostPorts(database.ports)[0],
          alias: database.alias,
          ipv4Address: database.address,
        },
        pgbouncer: database.pgbouncer
          ? {
              containerName: database.pgbouncer.containerName,
              image: ContainerImage.fromRegistry(database.pgbouncer.image),
              alias: database.pgbouncer.alias,
              hostPort: toHostPorts(database.pgbouncer.ports)[0],
              poolMode: database.pgbouncer.poolMode,
              defaultPoolSize: database.pgbouncer.defaultPoolSize,
              ipv4Address: database.pgbouncer.address,
              statsUser: database.pgbouncer.statsUser,
            }
          : undefined,
        network: { name: this.stackNetworkName },
        databases: clients,
        extensions: database.extensions,
        timezone: deployment.timezone,
      });
      this.databases.push(construct);
      if (database.shared) {
        this.sharedDatabase = construct;
      }
    }

    const shared = core ? core.sharedDatabase : this.sharedDatabase;
    for (const gateway of spec.gateways) {
      const construct = new IgnitionGateway(this, `gateway-${gateway.key}`, {
        containerName: gateway.containerName,
        image: ContainerImage.fromRegistry(gateway.image),
        edition: gateway.edition,
        networks: [
          onStackNetwork([gateway.alias, gateway.sharedAlias], gateway.address),
          ...onOperationsNetwork(gateway.sharedAlias),
        ],
        ports: toHostPorts(gateway.ports),
        modules: [...gateway.modules],
        thirdPartyModules: gateway.thirdPartyModules.map((module) => ({
          ...module,
        })),
        jdbcDrivers: [...gateway.jdbcDrivers],
        database: shared?.connectionFor(gateway.databaseName),
        databaseConnectionName: gateway.databaseName,
        // Without a tunnel the public hostname is not published, so links keep the address of each request.
        publicHostname: spec.tunnel ? gateway.poolHostname : undefined,
        gatewayNetwork: gateway.connections.map((connection) => ({
          host: connection.host,
          port: connection.port,
          description: connection.containerName,
        })),
        memory: gateway.memory,
        timezone: deployment.timezone,
      });
      this.gateways.push(construct);
      new TerraformOutput(this, `${gateway.key}-admin-password`, {
        value: construct.adminPassword,
        sensitive: true,
        description: `Admin password of ${gateway.containerName}`,
      });
      // 8.3 gateways get their connection seeded; 8.1 gateways need the values entered by hand.
      if (construct.databaseSettings && construct.ignitionVersion === "8.1") {
        const { password, ...settings } = construct.databaseSettings;
        // Sensitive because, outside core, these values come from core's cross-stack outputs, which are sensitive.
        new TerraformOutput(this, `${gateway.key}-database-connection`, {
          value: settings,
          sensitive: true,
          description: `Database connection to enter in ${gateway.containerName} (Ignition 8.1 has no seeding)`,
        });
        new TerraformOutput(this, `${gateway.key}-database-password`, {
          value: password,
          sensitive: true,
          description: `Password of the database connection of ${gateway.containerName}`,
        });
      }
    }

    const stackDatabases = spec.databases
      .map((database, index) => ({
        key: database.key,
        names: database.databases,
        construct: this.databases[index],
        shared: database.shared,
        image: database.image,
        timescaledb: database.extensions.includes("timescaledb"),
      }))
      .filter((database) => !database.shared);
    for (const service of spec.services) {
      const integration = integrationFor(
        deployment,
        spec,
        service,
        stackDatabases,
      );
      this.services.push(
        new ServiceContainer(this, `service-${service.key}`, {
          containerName: service.containerName,
          image: service.pull
            ? ContainerImage.fromRegistry(service.image)
            : ContainerImage.fromLocal(service.image),
          networks: [
            onStackNetwork(
              [service.alias, service.sharedAlias],
              service.address,
            ),
            ...(service.operationsNetwork
              ? onOperationsNetwork(service.sharedAlias)
              : []),
            ...(integration.routingNetwork
              ? [
                  {
                    name: this.routingNetworkName,
                    aliases: [service.sharedAlias],
                  },
                ]
              : []),
          ],
          ports: toHostPorts(service.ports),
          environment: {
            TZ: deployment.timezone,
            ...integration.environment,
            ...service.environment,
            ...integration.secretEnvironment,
          },
          files: integration.files,
          generatedSecrets: [...service.generatedSecrets],
          volumes: service.volumes.map((volume) => ({ ...volume })),
          command: service.command ? [...service.command] : undefined,
          healthcheck: service.healthcheck ?? integration.healthcheck,
          memory: service.memory,
        }),
      );
    }

    this.nginx = new StackNginx(this, "nginx", {
      stack: spec.id,
      containerName: spec.nginx.containerName,
      image: ContainerImage.fromRegistry(spec.nginx.image),
      networks: [
        onStackNetwork(
          [spec.nginx.alias, spec.nginx.sharedAlias],
          spec.nginx.address,
        ),
        {
          name: this.routingNetworkName,
          aliases: [spec.nginx.sharedAlias],
          ipv4Address: spec.nginx.routingAddress,
        },
      ],
      routes: spec.routes.map((route) => ({
        key: route.key,
        hostname: route.hostname,
        localPath: route.localPath,
        pathPrefix: route.pathPrefix,
        redirectPort: route.redirectPort,
        sticky: route.sticky,
        servers: route.members.map((member) => ({ ...member })),
      })),
      localPort: toHostPorts(spec.nginx.ports)[0],
      trustedProxy: spec.tunnel?.routingAddress,
    });
    // nginx does not wait for the containers it routes to: their addresses are fixed, so it starts,
    // and serves every other host, while one of them is still being created or fails to start.

    this.exporters = addExporters(this, spec, {
      stackNetworkName: this.stackNetworkName,
      routingNetworkName: this.routingNetworkName,
      databases: new Map(
        spec.databases.map((database, index) => [
          database.key,
          this.databases[index],
        ]),
      ),
    });

    const cloudflare = new CloudflareAccount(this, deployment.domain);
    if (spec.tunnel) {
      const hostnames = spec.routes.flatMap((route) =>
        route.hostname ? [route.hostname] : [],
      );
      if (hostnames.length === 0) {
        Annotations.of(this).addWarning(
          `Stack ${spec.id} is published through Cloudflare but has no public hostname, so its tunnel answers 404 to every request. ` +
            `Give a service a publicHost, or set cloudflare: false on the stack.`,
        );
      }
      this.tunnel = new TunnelStack(this, "tunnel", {
        tunnelName: `proveit-${spec.id}`,
        accountId: cloudflare.accountId,
        zoneId: cloudflare.zoneId,
        hostnames,
        origin: `http://${spec.nginx.sharedAlias}:${NGINX_PUBLIC_PORT}`,
        containerName: spec.tunnel.containerName,
        image: ContainerImage.fromRegistry(spec.tunnel.image),
        network: {
          name: this.routingNetworkName,
          aliases: [`${spec.id}-cloudflared`],
          ipv4Address: spec.tunnel.routingAddress,
        },
        dependsOn: this.nginx.container,
        cloudflareProvider: cloudflare.provider,
      });
    }
    if (!core) {
      this.certificates = addEdgeCertificates(this, deployment, cloudflare);
    }

    if (spec.services.some((service) => service.kind === "uptime-kuma")) {
      new TerraformOutput(this, "uptime-kuma-monitors", {
        description:
          "HTTP monitors to add in Uptime Kuma, which reads none from files: name, URL and accepted status codes",
        value: uptimeKumaMonitors(deployment),
      });
    }

    new TerraformOutput(this, "urls", {
      description: "Public and local addresses of the stack's services",
      value: stackUrls(spec),
    });
    warnAboutUnreachableRedirects(this, spec);
  }
}

/**
 * Warns when the stack's nginx port is reachable from other machines but a
 * path of it redirects to a port that binds loopback only: browsers on other
 * machines follow the redirect and find nothing there.
 */
function warnAboutUnreachableRedirects(
  stack: PlatformStack,
  spec: StackSpec,
): void {
  const nginxPort = spec.nginx.ports[0];
  if (!nginxPort || nginxPort.ip.startsWith("127.")) {
    return;
  }
  const published = [...spec.gateways, ...spec.services].flatMap(
    (container) => container.ports,
  );
  for (const route of spec.routes) {
    if (
      route.pathPrefix !== "redirect" ||
      route.localPath === "/" ||
      route.redirectPort === undefined
    ) {
      continue;
    }
    const target = published.find(
      (port) => port.external === route.redirectPort,
    );
    if (target && target.ip.startsWith("127.")) {
      Annotations.of(stack).addWarning(
        `${route.localPath} on nginx port ${nginxPort.external} (bound to ${nginxPort.ip}) redirects to port ${target.external}, ` +
          `which binds ${target.ip} only, so browsers on other machines cannot follow it. Bind that port to ${nginxPort.ip} too, or use the route's public hostname.`,
      );
    }
  }
}

/**
 * Orders the deployment's edge certificate pack in core, or records why
 * there is none when some stack is published through Cloudflare.
 */
function addEdgeCertificates(
  core: PlatformStack,
  deployment: Deployment,
  cloudflare: CloudflareAccount,
): EdgeCertificatePack | undefined {
  const published = deployment.stacks
    .filter((stack) => stack.tunnel)
    .map((stack) => stack.id);
  if (deployment.certificatePack) {
    Annotations.of(core).addInfo(
      `Core orders an Advanced Certificate Manager pack for ${deployment.certificatePack.hosts.length} hosts of ` +
        `${deployment.domain}: the zone needs Cloudflare's Advanced Certificate Manager add-on. ` +
        "Without it, set `hostnames: flat`, which Universal SSL covers.",
    );
    return new EdgeCertificatePack(core, "edge-certificates", {
      zoneId: cloudflare.zoneId,
      hosts: [...deployment.certificatePack.hosts],
      provider: cloudflare.provider,
    });
  }
  if (published.length > 0) {
    Annotations.of(core).addInfo(
      `No Advanced Certificate Manager pack is ordered: Universal SSL of ${deployment.domain} covers every public hostname ` +
        `of the stacks published through Cloudflare (${published.join(", ")}).`,
    );
  }
  return undefined;
}

/** Returns every gateway database of every stack, then the shared database's own application databases. */
function sharedDatabaseClients(
  deployment: Deployment,
  extra: readonly string[],
): string[] {
  const gateways = deployment.stacks.flatMap((stack) =>
    stack.gateways.map((gateway) => gateway.databaseName),
  );
  return [...gateways, ...extra];
}

function stackUrls(spec: StackSpec): Record<string, string> {
  const urls: Record<string, string> = {};
  const local = spec.nginx.ports[0];
  for (const route of spec.routes) {
    if (route.hostname && spec.tunnel) {
      urls[`${route.key}-public`] = `https://${route.hostname}`;
    }
    if (route.localPath && local) {
      urls[`${route.key}-local`] =
        `http://localhost:${local.external}${route.localPath}`;
    }
  }
  return urls;
}
