import { existsSync } from "node:fs";
import * as nodePath from "node:path";
import { invalidClientName } from "../rendering/postgres-init";
import { scanText } from "../audit/secret-scan";
import {
  dynamicRange,
  fixedRange,
  formatIpv4,
  gatewayAddress,
  isFixedAddress,
  isNetworkAddress,
  parseSubnet,
  planAddresses,
  Subnet,
  subnetsOverlap,
} from "./addresses";
import { planCertificates } from "./certificates";
import {
  DEFAULT_DOCKER_HOST,
  DEFAULT_IMAGES,
  DEFAULT_OPERATIONS_NETWORK,
  DEFAULT_ROUTING_NETWORK,
  IGNITION_PORTS,
  NGINX_EXPORTER_PORT,
  PGBOUNCER_EXPORTER_PORT,
} from "./defaults";
import { DEFAULT_PATH_PREFIX } from "./path-prefix";
import { ConfigIssue, FieldPath, formatPath } from "./errors";
import type {
  BackendSettings,
  ContainerSpec,
  DatabaseSpec,
  Deployment,
  ExporterSpec,
  GatewaySpec,
  MetricsSettings,
  NetworkSpec,
  PathPrefixMode,
  PublishedPort,
  RouteSpec,
  ServiceSpec,
  StackSpec,
} from "./model";
import {
  DatabaseConfig,
  DockerNetworkConfig,
  GatewayConfig,
  HostPort,
  PortMapping,
  ProveitConfig,
  ServiceConfig,
  STACK_IDS,
  StackConfig,
  StackId,
} from "./schema";

const LOOPBACK = "127.0.0.1";
/** Memory limit of a gateway whose configuration sets none. */
const DEFAULT_GATEWAY_MEMORY = "2g";
const MEMBER_PLACEHOLDER = "{nn}";
/** Environment variable names that hold credentials; their values must be generated, never written in the file. */
const SECRET_NAME = /(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)/i;
/** A URL with a password in it, such as `postgres://user:password@host/db`. */
const URL_CREDENTIALS = /:\/\/[^/\s:@]+:[^/\s@]+@/;
/** Docker daemon addresses the Docker provider accepts. */
const DOCKER_HOST = /^(unix|tcp|ssh|npipe):\/\/\S+$/;
/** Docker's default bridge network, docker0, unless the daemon is configured otherwise. */
const DOCKER_DEFAULT_BRIDGE = "172.17.0.0/16";

/** A container's wish for a fixed address, before the plan of its network is made. */
interface AddressClaim {
  readonly containerName: string;
  readonly pinned?: string;
  readonly path: FieldPath;
}

/** Builds the names and address of a container of the stack being resolved. */
type ContainerFactory = (
  key: string,
  containerName: string,
  ports: readonly PublishedPort[],
  alias?: string,
) => ContainerSpec;

/** Owner of a published host port, named in collision messages. */
interface PortOwner {
  readonly path: FieldPath;
  readonly containerName: string;
}

/**
 * Applies defaults to a schema-valid configuration and checks the rules that
 * span fields: unique names, host ports and hostnames across all enabled
 * stacks, subnets and addresses, pools, and the shared database. Collects
 * every issue instead of stopping at the first.
 */
export class DeploymentResolver {
  private readonly issues: ConfigIssue[] = [];
  private readonly hostPorts = new Map<string, PortOwner>();
  private readonly containerNames = new Map<string, FieldPath>();
  private readonly volumeNames = new Map<string, FieldPath>();
  private readonly hostnames = new Map<string, FieldPath>();
  private readonly metrics: MetricsSettings;

  constructor(
    private readonly config: ProveitConfig,
    private readonly file: string,
    private readonly environment: NodeJS.ProcessEnv = process.env,
  ) {
    this.metrics = this.resolveMetrics();
  }

  /** Returns the deployment, or the issues found when there are any. */
  public resolve(): {
    deployment?: Deployment;
    issues: readonly ConfigIssue[];
  } {
    const config = this.config;
    const domain = config.domain;
    const backend = this.resolveBackend();
    const operationsNetwork = this.resolveNetwork(
      config.networks?.operations ?? DEFAULT_OPERATIONS_NETWORK,
      ["networks", "operations"],
    );
    const routingNetwork = this.resolveNetwork(
      config.networks?.routing ?? DEFAULT_ROUTING_NETWORK,
      ["networks", "routing"],
    );

    const enabledIds = STACK_IDS.filter(
      (id) => config.stacks[id] && config.stacks[id]?.enabled !== false,
    );
    this.checkCoreEnabled(enabledIds);
    this.checkNetworks(enabledIds, operationsNetwork, routingNetwork);
    this.checkLabels(enabledIds);
    this.checkDockerHosts(enabledIds);
    this.checkTimezone();

    const sharedDatabase = this.findSharedDatabase(enabledIds);
    const stacks: StackSpec[] = [];
    const routingClaims: AddressClaim[] = [];
    for (const id of enabledIds) {
      const stack = this.resolveStack(
        id,
        config.stacks[id]!,
        operationsNetwork,
        routingClaims,
      );
      if (stack) {
        stacks.push(stack);
      }
    }
    const routingPlan = this.planNetwork(routingNetwork, routingClaims, [
      "networks",
      "routing",
      "subnet",
    ]);
    const withRouting = this.resolveConnections(
      stacks.map((stack) => attachRoutingAddresses(stack, routingPlan)),
    );
    if (enabledIds.includes("core")) {
      // Without core, its missing shared database is already reported as the missing core.
      this.checkGatewaysHaveDatabase(withRouting, sharedDatabase);
    }
    this.checkDatabaseNames(withRouting);
    const certificates = planCertificates(config, withRouting, this.hostnames);
    this.issues.push(...certificates.issues);

    if (this.issues.length > 0) {
      return { issues: this.issues };
    }
    return {
      deployment: {
        file: this.file,
        domain,
        hostnameStyle: config.hostnames ?? "nested",
        timezone: config.timezone ?? "UTC",
        backend,
        operationsNetwork,
        routingNetwork,
        stacks: withRouting,
        certificatePack: certificates.pack,
        metrics: this.metrics,
      },
      issues: [],
    };
  }

  private report(
    path: FieldPath,
    message: string,
    fix: string,
    value?: unknown,
    hasValue = true,
  ): void {
    this.issues.push(
      hasValue ? { path, message, fix, value } : { path, message, fix },
    );
  }

  private resolveBackend(): BackendSettings {
    const backend = this.config.backend ?? { type: "local" as const };
    if (backend.type === "local") {
      return {
        type: "local",
        directory: backend.directory ?? "terraform-state",
      };
    }
    const organization =
      this.environment.TF_CLOUD_ORGANIZATION || backend.organization;
    if (!organization) {
      this.report(
        ["backend", "organization"],
        "the cloud backend needs a Terraform Cloud organization",
        "set backend.organization or the TF_CLOUD_ORGANIZATION environment variable",
        undefined,
        false,
      );
    }
    return {
      type: "cloud",
      organization: organization ?? "",
      workspacePrefix: backend.workspacePrefix ?? "proveit-",
      hostname:
        this.environment.TF_CLOUD_HOSTNAME ||
        backend.hostname ||
        "app.terraform.io",
      project: this.environment.TF_CLOUD_PROJECT || backend.project,
    };
  }

  /** Metrics are on by default when an enabled stack runs an enabled service of kind prometheus. */
  private resolveMetrics(): MetricsSettings {
    const metrics = this.config.metrics;
    const prometheus = STACK_IDS.some((id) => {
      const stack = this.config.stacks[id];
      if (!stack || stack.enabled === false) {
        return false;
      }
      return Object.values(stack.services ?? {}).some(
        (service) => service.enabled !== false && service.kind === "prometheus",
      );
    });
    return {
      enabled: metrics?.enabled ?? prometheus,
      nginxExporterImage:
        metrics?.nginxExporterImage ?? DEFAULT_IMAGES.nginxExporter,
      pgbouncerExporterImage:
        metrics?.pgbouncerExporterImage ?? DEFAULT_IMAGES.pgbouncerExporter,
    };
  }

  /**
   * Lists the stack's exporters, one for its nginx's stub_status and one per
   * PgBouncer. They get no fixed address, because nothing proxies to them and
   * Prometheus finds them by their alias on routing-network.
   */
  private resolveExporters(
    id: StackId,
    stack: StackConfig,
    databases: readonly DatabaseSpec[],
    base: FieldPath,
  ): ExporterSpec[] {
    if (!this.metrics.enabled) {
      return [];
    }
    const exporters: ExporterSpec[] = [];
    const nginxName = `${stack.nginx.containerName}-exporter`;
    this.claimContainerName(nginxName, [...base, "nginx", "containerName"]);
    exporters.push({
      key: "nginx-exporter",
      kind: "nginx",
      containerName: nginxName,
      image: this.metrics.nginxExporterImage,
      sharedAlias: `${id}-nginx-exporter`,
      port: NGINX_EXPORTER_PORT,
    });
    for (const database of databases) {
      if (!database.pgbouncer) {
        continue;
      }
      const name = `${database.pgbouncer.containerName}-exporter`;
      this.claimContainerName(name, [
        ...base,
        "databases",
        database.key,
        "pgbouncer",
        "containerName",
      ]);
      exporters.push({
        key: `${database.pgbouncer.key}-exporter`,
        kind: "pgbouncer",
        containerName: name,
        image: this.metrics.pgbouncerExporterImage,
        sharedAlias: `${id}-${database.pgbouncer.key}-exporter`,
        port: PGBOUNCER_EXPORTER_PORT,
        databaseKey: database.key,
      });
    }
    return exporters;
  }

  private resolveNetwork(
    network: DockerNetworkConfig,
    path: FieldPath,
  ): NetworkSpec {
    const subnet = parseSubnet(network.subnet);
    if (!isNetworkAddress(network.subnet)) {
      this.report(
        [...path, "subnet"],
        "the subnet has host bits set",
        `write it as ${formatSubnet(subnet)}`,
        network.subnet,
      );
    }
    if (subnet.prefixLength > 28) {
      this.report(
        [...path, "subnet"],
        "the subnet is too small for fixed and dynamic addresses",
        "use a /28 or larger subnet, such as a /24",
        network.subnet,
      );
    }
    return {
      name: network.name,
      subnet: formatSubnet(subnet),
      gateway: gatewayAddress(subnet),
      dynamicRange: dynamicRange(subnet),
    };
  }

  private checkCoreEnabled(enabledIds: readonly StackId[]): void {
    if (enabledIds.includes("core")) {
      return;
    }
    const dependents = enabledIds.filter((id) => id !== "core");
    const core = this.config.stacks.core;
    this.report(
      core ? ["stacks", "core", "enabled"] : ["stacks", "core"],
      dependents.length > 0
        ? `stacks ${dependents.join(", ")} need core, which creates the shared networks and database, but core is not enabled`
        : "no stack is enabled; core is required",
      "enable core (remove `enabled: false`, or add a core stack)",
      core?.enabled,
      core !== undefined,
    );
  }

  private checkNetworks(
    enabledIds: readonly StackId[],
    operations: NetworkSpec,
    routing: NetworkSpec,
  ): void {
    const seen: { name: string; subnet: Subnet; path: FieldPath }[] = [
      {
        name: operations.name,
        subnet: parseSubnet(operations.subnet),
        path: ["networks", "operations"],
      },
      {
        name: routing.name,
        subnet: parseSubnet(routing.subnet),
        path: ["networks", "routing"],
      },
    ];
    for (const id of enabledIds) {
      const stack = this.config.stacks[id]!;
      const path: FieldPath = ["stacks", id, "network"];
      if (id === "core") {
        if (stack.network) {
          this.report(
            path,
            "core has no network of its own: its services sit on operations-network",
            "remove stacks.core.network and set networks.operations instead",
            stack.network,
          );
        }
        continue;
      }
      if (!stack.network) {
        this.report(
          path,
          `stack ${id} needs its own network`,
          `add network: { name: ${id}-network, subnet: <an unused /24> }`,
          undefined,
          false,
        );
        continue;
      }
      seen.push({
        name: stack.network.name,
        subnet: parseSubnet(stack.network.subnet),
        path,
      });
    }
    const dockerBridge = parseSubnet(DOCKER_DEFAULT_BRIDGE);
    for (let i = 0; i < seen.length; i++) {
      if (subnetsOverlap(seen[i].subnet, dockerBridge)) {
        this.report(
          [...seen[i].path, "subnet"],
          `the subnet overlaps ${DOCKER_DEFAULT_BRIDGE}, Docker's default bridge network (docker0)`,
          "choose a subnet outside 172.17.0.0/16, such as the 10.213.x.0/24 ranges of configs/default.yaml",
          seen[i].subnet.cidr,
        );
      }
      for (let j = 0; j < i; j++) {
        if (seen[i].name === seen[j].name) {
          this.report(
            [...seen[i].path, "name"],
            `the network name is also used by ${formatPath(seen[j].path)}`,
            "give each network its own name",
            seen[i].name,
          );
        }
        if (subnetsOverlap(seen[i].subnet, seen[j].subnet)) {
          this.report(
            [...seen[i].path, "subnet"],
            `the subnet overlaps ${formatPath([...seen[j].path, "subnet"])} (${seen[j].subnet.cidr})`,
            "give each network a subnet of its own",
            seen[i].subnet.cidr,
          );
        }
      }
    }
  }

  /**
   * Docker networks do not span Docker hosts, and every stack joins core's
   * routing-network (its nginx) and operations-network (its gateways). So
   * every stack runs on core's Docker host.
   */
  private checkDockerHosts(enabledIds: readonly StackId[]): void {
    const globalHost = this.config.docker?.host;
    if (globalHost !== undefined && !DOCKER_HOST.test(globalHost)) {
      this.report(
        ["docker", "host"],
        "the Docker host must be a unix://, tcp://, ssh:// or npipe:// address",
        "write it as unix:///var/run/docker.sock or ssh://user@host",
        globalHost,
      );
    }
    const coreHost =
      this.config.stacks.core?.dockerHost ?? globalHost ?? DEFAULT_DOCKER_HOST;
    for (const id of enabledIds) {
      const host = this.config.stacks[id]!.dockerHost;
      if (host === undefined) {
        continue;
      }
      const path: FieldPath = ["stacks", id, "dockerHost"];
      if (!DOCKER_HOST.test(host)) {
        this.report(
          path,
          "the Docker host must be a unix://, tcp://, ssh:// or npipe:// address",
          "write it as unix:///var/run/docker.sock or ssh://user@host",
          host,
        );
      } else if (host !== coreHost) {
        this.report(
          path,
          `the stack would run on another Docker host than core (${coreHost}), but it joins core's routing-network and operations-network, and Docker networks do not span hosts`,
          "remove dockerHost here, or set docker.host to move the whole deployment to that host",
          host,
        );
      }
    }
  }

  /** Rejects a time zone that the tz database does not know, which PostgreSQL would refuse at startup. */
  private checkTimezone(): void {
    const timezone = this.config.timezone;
    if (timezone === undefined) {
      return;
    }
    try {
      new Intl.DateTimeFormat("en", { timeZone: timezone });
    } catch {
      this.report(
        ["timezone"],
        "the time zone is not in the tz database",
        "use a name such as UTC, Europe/Berlin or America/Chicago",
        timezone,
      );
    }
  }

  private checkLabels(enabledIds: readonly StackId[]): void {
    const owners = new Map<string, StackId>();
    for (const id of enabledIds) {
      const label = this.config.stacks[id]!.label ?? id;
      const owner = owners.get(label);
      if (owner) {
        this.report(
          ["stacks", id, "label"],
          `the label is also used by stack ${owner}`,
          "give each stack its own label",
          label,
        );
      }
      owners.set(label, id);
    }
  }

  private findSharedDatabase(
    enabledIds: readonly StackId[],
  ): FieldPath | undefined {
    let found: FieldPath | undefined;
    for (const id of enabledIds) {
      for (const [key, database] of Object.entries(
        this.config.stacks[id]!.databases ?? {},
      )) {
        if (!database.shared) {
          continue;
        }
        const path: FieldPath = ["stacks", id, "databases", key, "shared"];
        if (id !== "core") {
          this.report(
            path,
            "only core's database can be shared: it sits on operations-network, which core creates",
            "set shared: false here and use core's shared database",
            true,
          );
        } else if (found) {
          this.report(
            path,
            `${formatPath(found)} is already the shared database`,
            "mark one database of core as shared",
            true,
          );
        } else {
          found = path;
        }
      }
    }
    return found;
  }

  /**
   * Turns each gateway's `connections` entries into Gateway Network targets on
   * operations-network, which every gateway joins. A target must be an enabled
   * gateway; checkDockerHosts keeps every stack on core's Docker host.
   */
  private resolveConnections(stacks: StackSpec[]): StackSpec[] {
    const byName = new Map(stacks.map((stack) => [stack.id as string, stack]));
    return stacks.map((stack) => ({
      ...stack,
      gateways: stack.gateways.map((gateway) => {
        const entries =
          this.config.stacks[stack.id]!.gateways![gateway.poolKey]
            .connections ?? [];
        const connections = entries.flatMap((entry, index) => {
          const path: FieldPath = [
            "stacks",
            stack.id,
            "gateways",
            gateway.poolKey,
            "connections",
            index,
          ];
          const [targetStackId, targetKey] = entry.split("/");
          const targetStack = byName.get(targetStackId);
          const targets =
            targetStack?.gateways.filter(
              (candidate) => candidate.poolKey === targetKey,
            ) ?? [];
          if (targets.length === 0) {
            if (gateway.member === 1) {
              this.report(
                path,
                "no enabled gateway has that name",
                "name a gateway as <stack>/<gateway key> of an enabled stack, such as mes/ignition-backend",
                entry,
              );
            }
            return [];
          }
          return targets
            .filter((target) => target.containerName !== gateway.containerName)
            .map((target) => ({
              host: target.sharedAlias,
              port: IGNITION_PORTS.gan,
              containerName: target.containerName,
            }));
        });
        return { ...gateway, connections };
      }),
    }));
  }

  private checkGatewaysHaveDatabase(
    stacks: readonly StackSpec[],
    shared: FieldPath | undefined,
  ): void {
    if (shared) {
      return;
    }
    for (const stack of stacks) {
      const gateway = stack.gateways[0];
      if (gateway) {
        this.report(
          ["stacks", stack.id, "gateways", gateway.poolKey],
          "Ignition gateways need the shared database, but core has no database with shared: true",
          "add a database with shared: true under stacks.core.databases",
          undefined,
          false,
        );
        return;
      }
    }
  }

  /**
   * Checks every database and role name a server will create: each must be a
   * PostgreSQL identifier that is kept as written and not reserved, and no two
   * clients of one server may share a name. Gateway databases are named
   * `<stack>_<gateway key>`, so a long key can exceed PostgreSQL's 63 characters.
   */
  private checkDatabaseNames(stacks: readonly StackSpec[]): void {
    const sharedClients = new Map<string, FieldPath>();
    const gatewayFix =
      "choose a shorter gateway key: its database is named <stack>_<key>, with '-' written as '_'";
    for (const stack of stacks) {
      for (const gateway of stack.gateways) {
        this.checkDatabaseName(
          gateway.databaseName,
          ["stacks", stack.id, "gateways", gateway.poolKey],
          sharedClients,
          gatewayFix,
        );
      }
    }
    for (const stack of stacks) {
      for (const database of stack.databases) {
        const clients = database.shared
          ? sharedClients
          : new Map<string, FieldPath>();
        database.databases.forEach((name, index) => {
          this.checkDatabaseName(
            name,
            ["stacks", stack.id, "databases", database.key, "databases", index],
            clients,
            "choose another name",
          );
        });
      }
    }
  }

  private checkDatabaseName(
    name: string,
    path: FieldPath,
    seen: Map<string, FieldPath>,
    fix: string,
  ): void {
    const reason = invalidClientName(name);
    if (reason) {
      this.report(
        path,
        `the database name ${name} cannot be used: it ${reason}`,
        fix,
        name,
      );
    }
    const other = seen.get(name);
    if (other) {
      this.report(
        path,
        `the database name ${name} is also used by ${formatPath(other)}; each client needs its own database and role`,
        "rename one of the two",
        name,
      );
      return;
    }
    seen.set(name, path);
  }

  /** Resolves a file named in the configuration against the configuration file's folder and checks that it exists. */
  private projectFile(file: string, path: FieldPath): string {
    const resolved = nodePath.resolve(nodePath.dirname(this.file), file);
    if (!existsSync(resolved)) {
      this.report(
        path,
        `the file does not exist at ${resolved}`,
        "put the file there, or correct the path (it is relative to the configuration file)",
        file,
      );
    }
    return resolved;
  }

  private resolveStack(
    id: StackId,
    stack: StackConfig,
    operationsNetwork: NetworkSpec,
    routingClaims: AddressClaim[],
  ): StackSpec | undefined {
    const base: FieldPath = ["stacks", id];
    const label = stack.label ?? id;
    const network =
      id === "core" || !stack.network
        ? operationsNetwork
        : this.resolveNetwork(stack.network, [...base, "network"]);
    const claims: AddressClaim[] = [];
    // `path` locates the container's name, and `pinnedPath` its pinned address, for messages.
    const claim = (
      containerName: string,
      path: FieldPath,
      pinned?: string,
      pinnedPath?: FieldPath,
    ): boolean => {
      claims.push({ containerName, pinned, path: pinnedPath ?? path });
      return this.claimContainerName(containerName, path);
    };

    claim(
      stack.nginx.containerName,
      [...base, "nginx", "containerName"],
      stack.nginx.ipv4Address,
      [...base, "nginx", "ipv4Address"],
    );
    routingClaims.push({
      containerName: stack.nginx.containerName,
      path: [...base, "nginx"],
    });
    const cloudflare =
      stack.cloudflare ?? this.config.cloudflare?.enabled ?? false;
    const tunnelName =
      stack.tunnel?.containerName ?? `proveit-${id}-cloudflared`;
    if (cloudflare) {
      this.claimContainerName(tunnelName, [...base, "tunnel", "containerName"]);
      routingClaims.push({
        containerName: tunnelName,
        pinned: stack.tunnel?.ipv4Address,
        path: [...base, "tunnel", "ipv4Address"],
      });
    }

    const databaseConfigs = Object.entries(stack.databases ?? {});
    for (const [key, database] of databaseConfigs) {
      const path: FieldPath = [...base, "databases", key];
      if (
        claim(
          database.containerName,
          [...path, "containerName"],
          database.ipv4Address,
          [...path, "ipv4Address"],
        ) ||
        database.volume
      ) {
        this.claimVolume(database.volume ?? `${database.containerName}-data`, [
          ...path,
          "volume",
        ]);
      }
      if (database.pgbouncer) {
        claim(
          database.pgbouncer.containerName,
          [...path, "pgbouncer", "containerName"],
          database.pgbouncer.ipv4Address,
          [...path, "pgbouncer", "ipv4Address"],
        );
      }
    }
    const gatewayEntries = enabledGateways(stack);
    for (const [key, gateway] of gatewayEntries) {
      const path: FieldPath = [...base, "gateways", key];
      this.checkPool(gateway, path);
      // Without {nn} every member would get the same name; checkPool reports that once.
      const distinctMembers = gateway.containerName.includes(MEMBER_PLACEHOLDER)
        ? (gateway.replicas ?? 1)
        : 1;
      for (let member = 1; member <= distinctMembers; member++) {
        const name = memberName(gateway.containerName, member);
        // The data volume is named after the container, so a duplicate name is reported once.
        if (
          claim(
            name,
            [...path, "containerName"],
            gateway.ipv4Addresses?.[member - 1],
            [...path, "ipv4Addresses", member - 1],
          )
        ) {
          this.claimVolume(`${name}-data`, [...path, "containerName"]);
        }
      }
    }
    const serviceEntries = Object.entries(stack.services ?? {}).filter(
      ([, service]) => service.enabled !== false,
    );
    for (const [key, service] of serviceEntries) {
      const path: FieldPath = [...base, "services", key];
      claim(
        service.containerName,
        [...path, "containerName"],
        service.ipv4Address,
        [...path, "ipv4Address"],
      );
      (service.volumes ?? []).forEach((volume, index) =>
        this.claimVolume(volume.name, [...path, "volumes", index, "name"]),
      );
      this.checkService(service, path);
    }

    const plan = this.planNetwork(
      network,
      claims,
      id === "core"
        ? ["networks", "operations", "subnet"]
        : [...base, "network", "subnet"],
    );
    const address = (containerName: string): string =>
      plan.get(containerName) ?? "0.0.0.0";
    const container: ContainerFactory = (
      key,
      containerName,
      ports,
      alias = key,
    ) => ({
      key,
      containerName,
      alias,
      sharedAlias: `${id}-${key}`,
      address: address(containerName),
      ports,
    });

    const nginx = {
      ...container(
        "nginx",
        stack.nginx.containerName,
        this.publishHostPort(
          stack.nginx.hostPort,
          8080,
          [...base, "nginx", "hostPort"],
          stack.nginx.containerName,
        ),
      ),
      image: stack.nginx.image ?? DEFAULT_IMAGES.nginx,
      routingAddress: "",
    };
    const tunnel = cloudflare
      ? {
          containerName: tunnelName,
          image: stack.tunnel?.image ?? DEFAULT_IMAGES.cloudflared,
          routingAddress: "",
        }
      : undefined;

    const databases: DatabaseSpec[] = databaseConfigs.map(([key, database]) =>
      this.resolveDatabase(
        key,
        database,
        [...base, "databases", key],
        container,
      ),
    );
    const gateways: GatewaySpec[] = gatewayEntries.flatMap(([key, gateway]) =>
      this.resolveGateway(
        id,
        label,
        key,
        gateway,
        [...base, "gateways", key],
        container,
      ),
    );
    const services: ServiceSpec[] = serviceEntries.map(([key, service]) => ({
      ...container(
        key,
        service.containerName,
        this.publishMappings(
          service.ports ?? [],
          [...base, "services", key, "ports"],
          service.containerName,
        ),
      ),
      kind: service.kind ?? "generic",
      image: service.image,
      pull: service.pull ?? true,
      environment: service.environment ?? {},
      generatedSecrets: service.generatedSecrets ?? [],
      volumes: service.volumes ?? [],
      command: service.command,
      healthcheck: service.healthcheck,
      operationsNetwork: service.operationsNetwork ?? false,
      memory: service.memory,
    }));
    const routes = this.resolveRoutes(label, stack, gateways, services, base);
    const exporters = this.resolveExporters(id, stack, databases, base);

    return {
      id,
      label,
      dockerHost:
        stack.dockerHost ?? this.config.docker?.host ?? DEFAULT_DOCKER_HOST,
      network,
      nginx,
      tunnel,
      databases,
      gateways,
      services,
      routes,
      exporters,
    };
  }

  private planNetwork(
    network: NetworkSpec,
    claims: readonly AddressClaim[],
    subnetPath: FieldPath,
  ): Map<string, string> {
    const subnet = parseSubnet(network.subnet);
    const pinnedBy = new Map<string, FieldPath>();
    for (const claim of claims) {
      if (!claim.pinned) {
        continue;
      }
      if (!isFixedAddress(subnet, claim.pinned)) {
        this.report(
          claim.path,
          `the address is outside the fixed half of ${network.name} (${network.subnet}); the upper half is for addresses Docker assigns`,
          `choose an address between ${formatRange(subnet)}`,
          claim.pinned,
        );
      }
      const other = pinnedBy.get(claim.pinned);
      if (other) {
        this.report(
          claim.path,
          `the address is also pinned by ${formatPath(other)}`,
          "pin each container to its own address",
          claim.pinned,
        );
      }
      pinnedBy.set(claim.pinned, claim.path);
    }
    const plan = planAddresses(
      subnet,
      claims.map((claim) => ({
        name: claim.containerName,
        pinned: claim.pinned,
      })),
    );
    if (!plan) {
      this.report(
        subnetPath,
        `${network.name} has room for too few fixed addresses for its ${claims.length} containers`,
        "use a larger subnet, such as a /23 instead of a /24",
        network.subnet,
      );
      return new Map();
    }
    return plan;
  }

  /** Records a container name; returns false, after reporting, when another container has it. */
  private claimContainerName(name: string, path: FieldPath): boolean {
    const other = this.containerNames.get(name);
    if (other) {
      this.report(
        path,
        `the container name is also used by ${formatPath(other)}`,
        "give each container its own name",
        name,
      );
      return false;
    }
    this.containerNames.set(name, path);
    return true;
  }

  private claimVolume(name: string, path: FieldPath): void {
    const other = this.volumeNames.get(name);
    if (other) {
      this.report(
        path,
        `the volume name is also used by ${formatPath(other)}`,
        "give each volume its own name, or each container its own name",
        name,
      );
      return;
    }
    this.volumeNames.set(name, path);
  }

  private claimHostname(hostname: string, path: FieldPath): void {
    const other = this.hostnames.get(hostname);
    if (other) {
      this.report(
        path,
        `the public hostname ${hostname} is also used by ${formatPath(other)}`,
        "give each service its own publicHost",
        hostname,
      );
      return;
    }
    const tooLong =
      hostname.length > 253 ||
      hostname.split(".").some((label) => label.length > 63);
    if (tooLong) {
      this.report(
        path,
        `the public hostname ${hostname} is longer than DNS allows (labels of 63, names of 253 characters)`,
        "choose a shorter publicHost, stack label or domain",
        hostname,
      );
    }
    this.hostnames.set(hostname, path);
  }

  /** Records a published host port; the same port and protocol on two bind addresses still counts as a collision. */
  private claimHostPort(
    port: number,
    protocol: string,
    owner: PortOwner,
  ): void {
    const key = `${port}/${protocol}`;
    const other = this.hostPorts.get(key);
    if (other) {
      this.report(
        owner.path,
        `host port ${port}/${protocol} of ${owner.containerName} is also published by ${other.containerName} (${formatPath(other.path)})`,
        "choose a free host port for one of the two services",
        port,
      );
      return;
    }
    this.hostPorts.set(key, owner);
  }

  private publishHostPort(
    hostPort: HostPort | undefined,
    internal: number,
    path: FieldPath,
    containerName: string,
  ): PublishedPort[] {
    if (hostPort === undefined) {
      return [];
    }
    const external = typeof hostPort === "number" ? hostPort : hostPort.port;
    const ip =
      typeof hostPort === "number" ? LOOPBACK : (hostPort.bind ?? LOOPBACK);
    this.claimHostPort(external, "tcp", { path, containerName });
    return [{ internal, external, ip, protocol: "tcp" }];
  }

  private publishMappings(
    mappings: readonly PortMapping[],
    path: FieldPath,
    containerName: string,
  ): PublishedPort[] {
    const published: PublishedPort[] = [];
    mappings.forEach((mapping, index) => {
      const mappingPath = [...path, index];
      const internal = this.parsePortRange(mapping.container, [
        ...mappingPath,
        "container",
      ]);
      if (mapping.host === undefined || !internal) {
        return;
      }
      const external = this.parsePortRange(mapping.host, [
        ...mappingPath,
        "host",
      ]);
      if (!external) {
        return;
      }
      if (external.length !== internal.length) {
        this.report(
          [...mappingPath, "host"],
          `the host range has ${external.length} ports but the container range has ${internal.length}`,
          "make both ranges the same length",
          mapping.host,
        );
        return;
      }
      const protocol = mapping.protocol ?? "tcp";
      const ip = mapping.bind ?? LOOPBACK;
      external.forEach((port, offset) => {
        this.claimHostPort(port, protocol, {
          path: [...mappingPath, "host"],
          containerName,
        });
        published.push({
          internal: internal[offset],
          external: port,
          ip,
          protocol,
        });
      });
    });
    return published;
  }

  private parsePortRange(
    value: number | string,
    path: FieldPath,
  ): number[] | undefined {
    if (typeof value === "number") {
      return [value];
    }
    const [start, end] = value.split("-").map(Number);
    if (start < 1 || end > 65535 || start > end) {
      this.report(
        path,
        "the port range must run upwards within 1 to 65535",
        'write it as "<first>-<last>", such as "5500-5550"',
        value,
      );
      return undefined;
    }
    return Array.from(
      { length: end - start + 1 },
      (_, offset) => start + offset,
    );
  }

  private checkPool(gateway: GatewayConfig, path: FieldPath): void {
    const replicas = gateway.replicas ?? 1;
    if (replicas > 1 && !gateway.containerName.includes(MEMBER_PLACEHOLDER)) {
      this.report(
        [...path, "containerName"],
        `a pool of ${replicas} gateways needs the member number in each container name`,
        `put ${MEMBER_PLACEHOLDER} in the name, such as ${gateway.containerName}-${MEMBER_PLACEHOLDER}`,
        gateway.containerName,
      );
    }
    if (
      gateway.memberPublicHost &&
      !gateway.memberPublicHost.includes(MEMBER_PLACEHOLDER)
    ) {
      this.report(
        [...path, "memberPublicHost"],
        "each pool member needs its own hostname",
        `put ${MEMBER_PLACEHOLDER} in it, such as ignition-frontend-${MEMBER_PLACEHOLDER}`,
        gateway.memberPublicHost,
      );
    }
    for (const field of ["weights", "ipv4Addresses"] as const) {
      const list = gateway[field];
      if (list && list.length !== replicas) {
        this.report(
          [...path, field],
          `${field} has ${list.length} entries for ${replicas} replicas`,
          "give one entry per replica",
          list,
        );
      }
    }
  }

  private checkService(service: ServiceConfig, path: FieldPath): void {
    const generated = new Set(service.generatedSecrets ?? []);
    for (const [name, value] of Object.entries(service.environment ?? {})) {
      const variablePath = [...path, "environment", name];
      if (generated.has(name)) {
        this.report(
          variablePath,
          "the variable is also listed under generatedSecrets, which would replace this value with a generated password",
          `remove ${name} from environment or from generatedSecrets`,
          value,
        );
      } else if (
        SECRET_NAME.test(name) ||
        URL_CREDENTIALS.test(value) ||
        scanText("", `${name}=${value}`).length > 0
      ) {
        this.report(
          variablePath,
          "the value looks like a credential, which would be stored in plain text in the configuration and in the synthesized Terraform",
          `list ${name} under generatedSecrets so Terraform generates it; a URL that embeds a password has no safe form here`,
          "(hidden)",
        );
      }
    }
    const routed =
      service.publicHost !== undefined || service.localPath !== undefined;
    const firstPort = service.ports?.[0]?.container;
    if (
      routed &&
      service.upstreamPort === undefined &&
      typeof firstPort !== "number"
    ) {
      this.report(
        [...path, "upstreamPort"],
        "nginx cannot tell which container port to proxy to",
        "set upstreamPort to the container's HTTP port",
        undefined,
        false,
      );
    }
    if (service.pathPrefix !== undefined && service.localPath === undefined) {
      this.report(
        [...path, "pathPrefix"],
        "pathPrefix applies to the local path route, but the service has no localPath",
        "remove pathPrefix, or set localPath",
        service.pathPrefix,
      );
    }
    if (service.pull === false && !service.image.includes(":")) {
      this.report(
        [...path, "image"],
        "an image loaded by hand needs a tag to be found on the Docker host",
        "add the tag you loaded it with",
        service.image,
      );
    }
  }

  private resolveDatabase(
    key: string,
    database: DatabaseConfig,
    path: FieldPath,
    container: ContainerFactory,
  ): DatabaseSpec {
    const shared = database.shared ?? false;
    const pgbouncer = database.pgbouncer;
    return {
      ...container(
        key,
        database.containerName,
        this.publishHostPort(
          database.hostPort,
          5432,
          [...path, "hostPort"],
          database.containerName,
        ),
        database.alias ?? key,
      ),
      shared,
      image: database.image ?? DEFAULT_IMAGES.postgres,
      volume: database.volume ?? `${database.containerName}-data`,
      databases: database.databases ?? [],
      extensions:
        database.extensions ??
        (/timescaledb/.test(database.image ?? "") ? ["timescaledb"] : []),
      pgbouncer: pgbouncer
        ? {
            ...container(
              `${key}-pgbouncer`,
              pgbouncer.containerName,
              this.publishHostPort(
                pgbouncer.hostPort,
                5432,
                [...path, "pgbouncer", "hostPort"],
                pgbouncer.containerName,
              ),
              pgbouncer.alias ?? (shared ? "pgbouncer" : `${key}-pgbouncer`),
            ),
            image: pgbouncer.image ?? DEFAULT_IMAGES.pgbouncer,
            statsUser: this.metrics.enabled,
            poolMode: pgbouncer.poolMode ?? "session",
            defaultPoolSize: pgbouncer.defaultPoolSize ?? 20,
          }
        : undefined,
    };
  }

  private resolveGateway(
    stackId: StackId,
    label: string,
    key: string,
    gateway: GatewayConfig,
    path: FieldPath,
    container: ContainerFactory,
  ): GatewaySpec[] {
    const replicas = gateway.replicas ?? 1;
    const poolHostname = gateway.publicHost
      ? this.hostname(gateway.publicHost, label)
      : undefined;
    if (poolHostname) {
      this.claimHostname(poolHostname, [...path, "publicHost"]);
    }
    const members: GatewaySpec[] = [];
    for (let member = 1; member <= replicas; member++) {
      const containerName = memberName(gateway.containerName, member);
      const memberKey =
        replicas > 1 || gateway.containerName.includes(MEMBER_PLACEHOLDER)
          ? `${key}-${pad(member)}`
          : key;
      const ports =
        member === 1
          ? this.publishGatewayPorts(gateway, [...path, "ports"], containerName)
          : [];
      const publicHostname = gateway.memberPublicHost
        ? this.hostname(memberName(gateway.memberPublicHost, member), label)
        : replicas === 1
          ? poolHostname
          : undefined;
      if (publicHostname && publicHostname !== poolHostname) {
        this.claimHostname(publicHostname, [...path, "memberPublicHost"]);
      }
      members.push({
        ...container(memberKey, containerName, ports),
        poolKey: key,
        member,
        image: gateway.image ?? DEFAULT_IMAGES.ignition,
        edition: gateway.edition ?? "standard",
        modules: gateway.modules ?? [],
        thirdPartyModules: (gateway.thirdPartyModules ?? []).map(
          (module, index) => ({
            id: module.id,
            file: this.projectFile(module.file, [
              ...path,
              "thirdPartyModules",
              index,
              "file",
            ]),
          }),
        ),
        jdbcDrivers: (gateway.jdbcDrivers ?? []).map((file, index) =>
          this.projectFile(file, [...path, "jdbcDrivers", index]),
        ),
        // Ignition's JVM grows to fill the host without a limit; the heap gets half of it.
        memory: gateway.memory ?? DEFAULT_GATEWAY_MEMORY,
        databaseName: `${stackId}_${memberKey}`.replace(/-/g, "_"),
        publicHostname,
        poolHostname: poolHostname ?? publicHostname,
        connections: [],
      });
    }
    return members;
  }

  private publishGatewayPorts(
    gateway: GatewayConfig,
    path: FieldPath,
    containerName: string,
  ): PublishedPort[] {
    const ports = gateway.ports ?? {};
    return (["http", "https", "gan"] as const).flatMap((role) =>
      this.publishHostPort(
        ports[role],
        IGNITION_PORTS[role],
        [...path, role],
        containerName,
      ),
    );
  }

  private hostname(service: string, label: string): string {
    return this.config.hostnames === "flat"
      ? `${service}-${label}.${this.config.domain}`
      : `${service}.${label}.${this.config.domain}`;
  }

  private resolveRoutes(
    label: string,
    stack: StackConfig,
    gateways: readonly GatewaySpec[],
    services: readonly ServiceSpec[],
    base: FieldPath,
  ): RouteSpec[] {
    const routes: RouteSpec[] = [];
    const localPaths = new Map<string, FieldPath>();
    const claimPath = (
      localPath: string | undefined,
      path: FieldPath,
    ): string | undefined => {
      if (localPath === undefined) {
        return undefined;
      }
      const other = localPaths.get(localPath);
      if (other) {
        this.report(
          path,
          `the local path is also routed to ${formatPath(other)}`,
          "give each service its own localPath",
          localPath,
        );
      }
      localPaths.set(localPath, path);
      return localPath;
    };

    for (const [key, gateway] of enabledGateways(stack)) {
      const members = gateways.filter((member) => member.poolKey === key);
      const weights = gateway.weights ?? [];
      const upstream = members.map((member, index) => ({
        containerName: member.containerName,
        address: member.address,
        port: IGNITION_PORTS.http,
        weight: weights[index] ?? 1,
      }));
      const poolHostname = gateway.publicHost
        ? this.hostname(gateway.publicHost, label)
        : undefined;
      const localPath = claimPath(gateway.localPath, [
        ...base,
        "gateways",
        key,
        "localPath",
      ]);
      routes.push({
        key,
        hostname: poolHostname,
        localPath,
        members: upstream,
        sticky: members.length > 1,
        ...this.gatewayPathPrefix(localPath, members[0], [
          ...base,
          "gateways",
          key,
        ]),
      });
      if (members.length > 1 || gateway.memberPublicHost) {
        members.forEach((member, index) => {
          if (member.publicHostname && member.publicHostname !== poolHostname) {
            routes.push({
              key: member.key,
              hostname: member.publicHostname,
              members: [upstream[index]],
              sticky: false,
              pathPrefix: "keep",
            });
          }
        });
      }
    }
    for (const service of services) {
      const config = stack.services![service.key];
      if (config.publicHost === undefined && config.localPath === undefined) {
        continue;
      }
      const port =
        config.upstreamPort ??
        (typeof config.ports?.[0]?.container === "number"
          ? config.ports[0].container
          : 0);
      const hostname = config.publicHost
        ? this.hostname(config.publicHost, label)
        : undefined;
      if (hostname) {
        this.claimHostname(hostname, [
          ...base,
          "services",
          service.key,
          "publicHost",
        ]);
      }
      const localPath = claimPath(config.localPath, [
        ...base,
        "services",
        service.key,
        "localPath",
      ]);
      routes.push({
        key: service.key,
        hostname,
        localPath,
        members: [
          {
            containerName: service.containerName,
            address: service.address,
            port,
            weight: 1,
          },
        ],
        sticky: false,
        ...this.servicePathPrefix(config, service, port, [
          ...base,
          "services",
          service.key,
        ]),
      });
    }
    return routes;
  }

  /**
   * Ignition serves its pages, resources and WebSockets at absolute paths and
   * has no base-path setting, so a gateway on a sub-path is reached through a
   * redirect to its own HTTP host port.
   */
  private gatewayPathPrefix(
    localPath: string | undefined,
    first: GatewaySpec | undefined,
    path: FieldPath,
  ): { pathPrefix: PathPrefixMode; redirectPort?: number } {
    if (localPath === undefined || localPath === "/") {
      return { pathPrefix: "keep" };
    }
    const http = first?.ports.find(
      (port) =>
        port.internal === IGNITION_PORTS.http && port.protocol === "tcp",
    );
    if (!http) {
      this.report(
        [...path, "localPath"],
        "Ignition cannot run under a path prefix, so nginx redirects the local path to the gateway's own HTTP host port, but the gateway publishes none",
        "set ports.http to a free host port, or remove localPath",
        localPath,
      );
      return { pathPrefix: "redirect" };
    }
    return { pathPrefix: "redirect", redirectPort: http.external };
  }

  /** Picks the service's path prefix mode and, for `redirect`, the host port that publishes its upstream port. */
  private servicePathPrefix(
    config: ServiceConfig,
    service: ServiceSpec,
    upstreamPort: number,
    path: FieldPath,
  ): { pathPrefix: PathPrefixMode; redirectPort?: number } {
    if (config.localPath === undefined) {
      return { pathPrefix: "keep" };
    }
    const mode =
      config.pathPrefix ??
      (config.localPath === "/" ? "keep" : DEFAULT_PATH_PREFIX[service.kind]);
    if (mode === "strip" && config.localPath === "/") {
      return { pathPrefix: "keep" };
    }
    if (mode !== "redirect") {
      return { pathPrefix: mode };
    }
    const published = service.ports.find(
      (port) => port.internal === upstreamPort && port.protocol === "tcp",
    );
    if (!published) {
      const field =
        config.pathPrefix === undefined ? "localPath" : "pathPrefix";
      this.report(
        [...path, field],
        `the local path redirects to the service's own HTTP host port${config.pathPrefix === undefined ? ` (the default for kind ${service.kind})` : ""}, but no host port publishes its container port ${upstreamPort}`,
        `add { container: ${upstreamPort}, host: <free port> } to ports, or set pathPrefix to strip or keep`,
        field === "localPath" ? config.localPath : config.pathPrefix,
      );
      return { pathPrefix: "redirect" };
    }
    return { pathPrefix: "redirect", redirectPort: published.external };
  }
}

function attachRoutingAddresses(
  stack: StackSpec,
  plan: Map<string, string>,
): StackSpec {
  return {
    ...stack,
    nginx: {
      ...stack.nginx,
      routingAddress: plan.get(stack.nginx.containerName) ?? "",
    },
    tunnel: stack.tunnel
      ? {
          ...stack.tunnel,
          routingAddress: plan.get(stack.tunnel.containerName) ?? "",
        }
      : undefined,
  };
}

function pad(member: number): string {
  return String(member).padStart(2, "0");
}

/** Returns the gateway entries of a stack that are not disabled. */
function enabledGateways(stack: StackConfig): [string, GatewayConfig][] {
  return Object.entries(stack.gateways ?? {}).filter(
    ([, gateway]) => gateway.enabled !== false,
  );
}

/** Replaces `{nn}` with the two-digit member number. */
export function memberName(template: string, member: number): string {
  return template.split(MEMBER_PLACEHOLDER).join(pad(member));
}

function formatSubnet(subnet: Subnet): string {
  return `${formatIpv4(subnet.base)}/${subnet.prefixLength}`;
}

function formatRange(subnet: Subnet): string {
  const { first, last } = fixedRange(subnet);
  return `${formatIpv4(first)} and ${formatIpv4(last)}`;
}
