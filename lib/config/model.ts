import type { HealthcheckConfig, SERVICE_KINDS, StackId } from "./schema";

export type ServiceKind = (typeof SERVICE_KINDS)[number];

/**
 * The deployment after validation and defaults: every value the constructs
 * need, with names, addresses, hostnames and ports worked out. Only enabled
 * stacks and services appear here.
 */
export interface Deployment {
  /** Configuration file the deployment was read from, as the user named it. */
  readonly file: string;
  readonly domain: string;
  readonly hostnameStyle: "nested" | "flat";
  readonly timezone: string;
  readonly backend: BackendSettings;
  readonly operationsNetwork: NetworkSpec;
  readonly routingNetwork: NetworkSpec;
  /** Enabled stacks, core first. */
  readonly stacks: readonly StackSpec[];
  /** Edge certificate pack that core orders; absent when Universal SSL covers every published hostname. */
  readonly certificatePack?: CertificatePackSpec;
  /** Whether each stack runs Prometheus exporters for its nginx and PgBouncers. */
  readonly metrics: MetricsSettings;
}

/** The deployment's Prometheus exporters. */
export interface MetricsSettings {
  readonly enabled: boolean;
  readonly nginxExporterImage: string;
  readonly pgbouncerExporterImage: string;
}

/** A Cloudflare Advanced Certificate Manager pack for the zone of the deployment's domain. */
export interface CertificatePackSpec {
  /** The apex first, then hostnames and single-label wildcards, at most 50. */
  readonly hosts: readonly string[];
}

export type BackendSettings =
  | { readonly type: "local"; readonly directory: string }
  | {
      readonly type: "cloud";
      readonly organization: string;
      readonly workspacePrefix: string;
      readonly hostname: string;
      readonly project?: string;
    };

export interface NetworkSpec {
  readonly name: string;
  readonly subnet: string;
  readonly gateway: string;
  /** Range Docker assigns to containers without a fixed address. */
  readonly dynamicRange: string;
}

/** A port published on the Docker host. */
export interface PublishedPort {
  readonly internal: number;
  readonly external: number;
  readonly ip: string;
  readonly protocol: "tcp" | "udp";
}

/** Names, fixed address and host ports that every container of a stack has. */
export interface ContainerSpec {
  /** Key of the container in its stack, such as `ignition-frontend-01`. */
  readonly key: string;
  readonly containerName: string;
  /** Alias on the stack network. */
  readonly alias: string;
  /** Alias on the shared networks, unique across stacks, such as `mes-nginx`. */
  readonly sharedAlias: string;
  /** Fixed IPv4 address on the stack network. */
  readonly address: string;
  readonly ports: readonly PublishedPort[];
}

export interface GatewaySpec extends ContainerSpec {
  /** Key of the gateway entry in the configuration; equal to `key` unless the gateway is a pool member. */
  readonly poolKey: string;
  /** Member number in its pool, starting at 1. */
  readonly member: number;
  readonly image: string;
  readonly edition: "standard" | "edge" | "maker";
  readonly modules: readonly string[];
  /** Third-party modules to install, with their .modl files as absolute paths on the machine that synthesizes. */
  readonly thirdPartyModules: readonly {
    readonly id: string;
    readonly file: string;
  }[];
  /** JDBC driver .jar files to install, as absolute paths on the machine that synthesizes. */
  readonly jdbcDrivers: readonly string[];
  readonly memory?: string;
  /** Database and role of this gateway in the shared database. */
  readonly databaseName: string;
  /** Public hostname of this gateway alone, if any. */
  readonly publicHostname?: string;
  /** Public hostname of its pool (or of the gateway), used in redirects. */
  readonly poolHostname?: string;
  /** Outgoing Gateway Network connections. */
  readonly connections: readonly GatewayConnection[];
}

/** An outgoing Gateway Network connection to another gateway over operations-network. */
export interface GatewayConnection {
  /** Alias of the target on operations-network, such as `mes-ignition-backend`. */
  readonly host: string;
  readonly port: number;
  readonly containerName: string;
}

export interface ServiceSpec extends ContainerSpec {
  /** Kind of generated configuration the service gets, if any. */
  readonly kind: ServiceKind;
  readonly image: string;
  readonly pull: boolean;
  readonly environment: Readonly<Record<string, string>>;
  readonly generatedSecrets: readonly string[];
  readonly volumes: readonly { readonly name: string; readonly path: string }[];
  readonly command?: readonly string[];
  readonly healthcheck?: HealthcheckConfig;
  readonly operationsNetwork: boolean;
  readonly memory?: string;
}

export interface PgbouncerSpec extends ContainerSpec {
  readonly image: string;
  /** Whether PgBouncer gets a stats user for a Prometheus exporter. */
  readonly statsUser: boolean;
  readonly poolMode: "session" | "transaction";
  readonly defaultPoolSize: number;
}

export interface DatabaseSpec extends ContainerSpec {
  readonly shared: boolean;
  readonly image: string;
  readonly volume: string;
  /** Application databases that are not gateways', each with a role of the same name. */
  readonly databases: readonly string[];
  /** Extensions preloaded by the server and created in every database. */
  readonly extensions: readonly string[];
  readonly pgbouncer?: PgbouncerSpec;
}

export interface UpstreamMember {
  readonly containerName: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
}

/**
 * Mode in which nginx serves a local path route such as `/dbeaver/`:
 * - `strip`: nginx removes the prefix, so the application receives `/...`.
 * - `keep`: nginx passes the path unchanged, because the application itself
 *   is configured to run under the prefix (its base path is set from the route).
 * - `redirect`: the application cannot run under a prefix, so nginx responds
 *   to the local path with a redirect to the application's own host port.
 */
export type PathPrefixMode = "strip" | "keep" | "redirect";

/** One way into a service through the stack's nginx. */
export interface RouteSpec {
  /** Upstream group name, unique in the stack. */
  readonly key: string;
  /** Public virtual host, if any. */
  readonly hostname?: string;
  /** Path on the local port, if any; `/` is the local port's default. */
  readonly localPath?: string;
  readonly members: readonly UpstreamMember[];
  /** Keep each client on one member (Perspective sessions live on one gateway). */
  readonly sticky: boolean;
  /**
   * Mode in which nginx serves `localPath`. A route at `/` is `keep`, since there is no
   * prefix. With `keep` and a sub-path, the application also expects the prefix
   * on its public hostname, so `/` there should redirect to `localPath`.
   */
  readonly pathPrefix: PathPrefixMode;
  /**
   * Host port that a `redirect` route sends the browser to: the application's
   * own published HTTP port, as in `http://<host>:<redirectPort>/`. Set only
   * for `redirect` routes.
   */
  readonly redirectPort?: number;
}

/** A Prometheus exporter container of a stack, reached by Prometheus over routing-network. */
export interface ExporterSpec {
  /** Key in the stack, such as `nginx-exporter` or `postgres-pgbouncer-exporter`. */
  readonly key: string;
  readonly kind: "nginx" | "pgbouncer";
  readonly containerName: string;
  readonly image: string;
  /** Alias on routing-network, unique across stacks, such as `core-nginx-exporter`. */
  readonly sharedAlias: string;
  /** Port of the exporter's `/metrics` endpoint inside the container. */
  readonly port: number;
  /** For a PgBouncer exporter, the key of the database whose PgBouncer it reads. */
  readonly databaseKey?: string;
}

export interface NginxSpec extends ContainerSpec {
  readonly image: string;
  /** Fixed address on routing-network. */
  readonly routingAddress: string;
}

export interface TunnelSpec {
  readonly containerName: string;
  readonly image: string;
  /** Fixed address on routing-network; nginx trusts `CF-Connecting-IP` from it only. */
  readonly routingAddress: string;
}

export interface StackSpec {
  readonly id: StackId;
  /** Subdomain label in public hostnames. */
  readonly label: string;
  readonly dockerHost: string;
  /** The stack network; core's is operations-network. */
  readonly network: NetworkSpec;
  readonly nginx: NginxSpec;
  /** Present when the stack is published through Cloudflare. */
  readonly tunnel?: TunnelSpec;
  readonly databases: readonly DatabaseSpec[];
  readonly gateways: readonly GatewaySpec[];
  readonly services: readonly ServiceSpec[];
  readonly routes: readonly RouteSpec[];
  /** Prometheus exporters; empty when metrics are off. */
  readonly exporters: readonly ExporterSpec[];
}
