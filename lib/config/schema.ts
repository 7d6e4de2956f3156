import { z } from "zod";

/**
 * The deployment configuration schema. It is the single source of truth for
 * the YAML files under `configs/`, for the TypeScript types the constructs
 * take, and for `configs/schema.json` that editors use to complete and check
 * the YAML (`npm run schema` writes it).
 */

/** Stack ids, in deploy order. `core` owns the shared networks and database. */
export const STACK_IDS = [
  "core",
  "mes",
  "scada",
  "analytics",
  "edge",
  "historian",
  "utility",
  "monitoring",
] as const;

export type StackId = (typeof STACK_IDS)[number];

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DOMAIN_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MEMORY = /^[1-9][0-9]*[kmg]$/;
const LOCAL_PATH = /^\/([a-z0-9][a-z0-9._-]*\/)?$/;
/** A Java-style module identifier, such as `com.cirruslink.mqtt.engine.gateway`. */
const MODULE_ID = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_-]*)+$/;
/** A relative file path without `..` segments and with the given extension. */
const ADDON_FILE = (extension: string): RegExp =>
  new RegExp(`^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9_./ -]+\\.${extension}$`);

/**
 * A Docker image reference with an explicit tag or digest, as in
 * `registry.example.com:5000/team/app:1.2.3` or `nginx@sha256:<64 hex>`. As in
 * Docker, a first component is a registry only when it has a dot or a port or
 * is `localhost`; the repository path is lowercase.
 * `latest` and a missing tag are rejected so that every deploy is repeatable.
 */
const IMAGE_REFERENCE =
  /^(?:(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)(?::[0-9]+)?\/|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?:[0-9]+\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export const dnsLabel = z
  .string()
  .regex(
    DNS_LABEL,
    "must be a DNS label: a-z, 0-9 and '-', 1 to 63 characters, not starting or ending with '-'",
  );

export const domainName = z
  .string()
  .regex(DOMAIN_NAME, "must be a lowercase domain name such as example.com");

export const imageReference = z
  .string()
  .regex(
    IMAGE_REFERENCE,
    "must be an image reference such as nginx:1.28.0-alpine",
  )
  .refine((value) => /:[^/]+$/.test(value) || value.includes("@sha256:"), {
    message:
      "must pin a version with a tag or a digest; a missing tag means `latest`",
  })
  .refine((value) => !/:latest(@|$)/.test(value), {
    message: "must pin a version: `latest` changes under the deployment",
  });

export const containerName = z
  .string()
  .regex(
    CONTAINER_NAME,
    "must be a Docker container name: letters, digits, '_', '.' and '-'",
  );

/** A container name that may hold `{nn}`, the member number of a gateway pool. */
export const memberContainerName = z
  .string()
  .regex(
    /^[a-zA-Z0-9{][a-zA-Z0-9_.{}-]{0,127}$/,
    "must be a Docker container name (letters, digits, '_', '.' and '-'), optionally with {nn}",
  )
  .refine(
    (value) => value.replace(/\{nn\}/g, "01").match(CONTAINER_NAME) !== null,
    {
      message: "braces are allowed only as {nn}, the member number",
    },
  );

export const volumeName = z
  .string()
  .regex(
    VOLUME_NAME,
    "must be a Docker volume name: letters, digits, '_', '.' and '-'",
  );

export const portNumber = z.number().int().min(1).max(65535);

/** A single port (`8088`) or an inclusive range (`"5500-5550"`). */
export const portOrRange = z.union([
  portNumber,
  z
    .string()
    .regex(
      /^[0-9]{1,5}-[0-9]{1,5}$/,
      'must be a port such as 8088 or a range such as "5500-5550"',
    ),
]);

export const ipv4Address = z.ipv4();

export const ipv4Subnet = z.cidrv4();

const seconds = z.number().int().min(1).max(3600);

export const hostBinding = z.strictObject({
  port: portNumber.describe("Host port that Docker publishes."),
  bind: ipv4Address
    .optional()
    .describe('Host address the port binds to. Default: "127.0.0.1".'),
});

/** A host port, either as a number bound to 127.0.0.1 or with an explicit bind address. */
export const hostPort = z.union([portNumber, hostBinding]);

export const portMapping = z.strictObject({
  container: portOrRange,
  host: portOrRange.optional(),
  bind: ipv4Address.optional(),
  protocol: z.enum(["tcp", "udp"]).optional(),
});

export const healthcheck = z.strictObject({
  test: z
    .array(z.string().min(1))
    .min(2)
    .describe(
      'Docker healthcheck test in exec form, for example ["CMD", "curl", "-fsS", "http://127.0.0.1:3000/"].',
    ),
  intervalSeconds: seconds.optional(),
  timeoutSeconds: seconds.optional(),
  retries: z.number().int().min(1).max(100).optional(),
  startPeriodSeconds: seconds.optional(),
});

export const dockerNetwork = z.strictObject({
  name: containerName,
  subnet: ipv4Subnet.describe(
    "IPv4 subnet; containers get fixed addresses in it so that nginx can keep upstream connections open.",
  ),
});

export const nginxConfig = z.strictObject({
  containerName,
  /** Host port of the stack's local entry point (container port 8080). */
  hostPort,
  image: imageReference.optional(),
  ipv4Address: ipv4Address.optional(),
});

export const tunnelConfig = z.strictObject({
  containerName: containerName.optional(),
  image: imageReference.optional(),
  ipv4Address: ipv4Address.optional(),
});

export const pgbouncerConfig = z.strictObject({
  containerName,
  image: imageReference.optional(),
  alias: dnsLabel
    .optional()
    .describe(
      "Network alias that clients use; the shared database's PgBouncer is pgbouncer.",
    ),
  hostPort: hostPort
    .optional()
    .describe("Host port bound to 127.0.0.1 by default."),
  poolMode: z
    .enum(["session", "transaction"])
    .optional()
    .describe(
      "session keeps JDBC's named server-side prepared statements working with every PgBouncer version. transaction needs PgBouncer 1.21 or later, which the pinned image is.",
    ),
  defaultPoolSize: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe("Server connections per database pool."),
  ipv4Address: ipv4Address.optional(),
});

export const databaseConfig = z.strictObject({
  shared: z
    .boolean()
    .optional()
    .describe(
      "Serves every Ignition gateway of every stack, one database and one role per gateway. Only one database may be shared, and it must belong to core.",
    ),
  containerName,
  image: imageReference.optional(),
  alias: dnsLabel.optional(),
  hostPort: hostPort.optional(),
  volume: volumeName
    .optional()
    .describe("Named volume for the data directory."),
  databases: z
    .array(
      z
        .string()
        .regex(
          /^[a-z_][a-z0-9_]{0,62}$/,
          "must be a PostgreSQL identifier: a-z, 0-9 and '_'",
        ),
    )
    .optional()
    .describe(
      "Application databases to create besides the gateways' ones; each gets a role of the same name.",
    ),
  pgbouncer: pgbouncerConfig.optional(),
  ipv4Address: ipv4Address.optional(),
  extensions: z
    .array(
      z
        .string()
        .regex(
          /^[a-z_][a-z0-9_]{0,62}$/,
          "must be an extension name such as timescaledb",
        ),
    )
    .optional()
    .describe(
      "Extensions preloaded by the server and created in every database. Default: [timescaledb] for TimescaleDB images, else none.",
    ),
});

export const gatewayPorts = z.strictObject({
  http: hostPort
    .optional()
    .describe("Host port for the gateway's HTTP port 8088."),
  https: hostPort
    .optional()
    .describe(
      "Host port for the gateway's HTTPS port 8043, which Perspective clients use over TLS.",
    ),
  gan: hostPort
    .optional()
    .describe("Host port for the Gateway Network port 8060."),
});

export const gatewayConfig = z.strictObject({
  enabled: z
    .boolean()
    .optional()
    .describe("Deploy this gateway. Default: true."),
  image: imageReference.optional(),
  edition: z.enum(["standard", "edge", "maker"]).optional(),
  replicas: z
    .number()
    .int()
    .min(1)
    .max(250)
    .optional()
    .describe(
      "Number of identical gateways behind one hostname; names and hostnames use {nn} for the member number (01, 02, ...).",
    ),
  containerName: memberContainerName,
  publicHost: dnsLabel
    .optional()
    .describe(
      "Public hostname label; with replicas, the hostname of the whole pool.",
    ),
  memberPublicHost: z
    .string()
    .regex(/^[a-z0-9{}-]+$/)
    .optional()
    .describe(
      "Public hostname label of each pool member, with {nn}, such as ignition-frontend-{nn}.",
    ),
  localPath: z
    .string()
    .regex(
      LOCAL_PATH,
      "must be / or a path of one segment with slashes on both sides, such as /backend/",
    )
    .optional()
    .describe(
      "Path route on the stack's local nginx port, such as /backend/; / makes it the local port's default.",
    ),
  ports: gatewayPorts
    .optional()
    .describe("Host ports of the first pool member."),
  modules: z
    .array(z.string().regex(/^[a-z0-9._-]+$/))
    .optional()
    .describe(
      "Ignition module identifiers to enable; the gateway's other built-in modules are disabled.",
    ),
  /**
   * Third-party modules installed into every member and kept across container replacement and image
   * upgrades: the module identifier (the `<id>` in the module's module.xml) and the .modl file, relative
   * to the configuration file. Their licences and certificates are accepted on start, without the web UI.
   */
  thirdPartyModules: z
    .array(
      z.strictObject({
        id: z
          .string()
          .regex(
            MODULE_ID,
            "must be a module identifier such as com.cirruslink.mqtt.engine.gateway",
          ),
        file: z
          .string()
          .regex(
            ADDON_FILE("modl"),
            "must be a relative path to a .modl file, such as modules/mqtt-engine.modl",
          ),
      }),
    )
    .optional(),
  jdbcDrivers: z
    .array(
      z
        .string()
        .regex(
          ADDON_FILE("jar"),
          "must be a relative path to a .jar file, such as drivers/ojdbc11.jar",
        ),
    )
    .optional()
    .describe(
      "JDBC driver .jar files installed into every member, relative to the configuration file.",
    ),
  memory: z
    .string()
    .regex(MEMORY, "must be a size such as 512m or 2g")
    .optional()
    .describe(
      "Memory limit, such as 3g; the JVM maximum heap is set to half of it.",
    ),
  weights: z
    .array(z.number().int().min(1).max(100))
    .optional()
    .describe(
      "Relative weight of each pool member for new clients, one entry per replica.",
    ),
  ipv4Addresses: z
    .array(ipv4Address)
    .optional()
    .describe(
      "Static addresses of the members on the stack network, one per replica.",
    ),
  /**
   * Outgoing Gateway Network connections of every member, each naming a gateway as `<stack>/<gateway key>`
   * (every member of a pool). The target must share a Docker host with this gateway.
   */
  connections: z
    .array(
      z
        .string()
        .regex(
          /^[a-z]+\/[a-z0-9]([a-z0-9-]*[a-z0-9])?$/,
          "must name a gateway as <stack>/<gateway key>, such as mes/ignition-backend",
        ),
    )
    .optional(),
});

/**
 * Services whose configuration files proveit-stacks generates from the
 * deployment; `generic` runs the image as configured.
 */
export const SERVICE_KINDS = [
  "generic",
  "homepage",
  "prometheus",
  "grafana",
  "uptime-kuma",
  "cloudbeaver",
] as const;

export const serviceConfig = z.strictObject({
  enabled: z.boolean().optional(),
  kind: z.enum(SERVICE_KINDS).optional(),
  image: imageReference,
  pull: z
    .boolean()
    .optional()
    .describe(
      "Pull the image from its registry; false expects an image loaded on the Docker host beforehand (for products without a public image).",
    ),
  containerName,
  ports: z.array(portMapping).optional(),
  publicHost: dnsLabel.optional(),
  localPath: z
    .string()
    .regex(
      LOCAL_PATH,
      "must be / or a path of one segment with slashes on both sides, such as /highbyte/",
    )
    .optional(),
  upstreamPort: portNumber
    .optional()
    .describe(
      "Container port that nginx proxies to; defaults to the first container port.",
    ),
  pathPrefix: z
    .enum(["strip", "keep", "redirect"])
    .optional()
    .describe(
      "How nginx serves localPath: strip removes the prefix, keep passes it to an application configured to run under it, redirect sends the browser to the service's own published HTTP host port. Default: keep for kind cloudbeaver and grafana, redirect for kind homepage and uptime-kuma, strip otherwise.",
    ),
  environment: z
    .record(
      z.string().regex(ENV_NAME, "must be an environment variable name"),
      z.string(),
    )
    .optional(),
  volumes: z
    .array(
      z.strictObject({
        name: volumeName,
        path: z
          .string()
          .regex(/^\/[^\0]*$/, "must be an absolute path inside the container"),
      }),
    )
    .optional(),
  generatedSecrets: z
    .array(z.string().regex(ENV_NAME, "must be an environment variable name"))
    .optional()
    .describe(
      "Environment variables whose values are passwords generated in Terraform, such as MSSQL_SA_PASSWORD.",
    ),
  command: z.array(z.string()).optional(),
  healthcheck: healthcheck.optional(),
  operationsNetwork: z
    .boolean()
    .optional()
    .describe(
      "Also join operations-network, for services that reach the shared database.",
    ),
  memory: z
    .string()
    .regex(MEMORY, "must be a size such as 512m or 2g")
    .optional(),
  ipv4Address: ipv4Address.optional(),
});

export const stackConfig = z.strictObject({
  enabled: z.boolean().optional(),
  label: dnsLabel
    .optional()
    .describe(
      "Subdomain label of the stack in public hostnames; monitoring is served as monitor.",
    ),
  dockerHost: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Docker daemon of this stack, such as ssh://ops@docker-2; defaults to docker.host.",
    ),
  cloudflare: z
    .boolean()
    .optional()
    .describe(
      "Publish this stack through a Cloudflare tunnel; defaults to cloudflare.enabled.",
    ),
  network: dockerNetwork
    .optional()
    .describe(
      "The stack's own network. Core has none: its services sit on operations-network.",
    ),
  nginx: nginxConfig,
  tunnel: tunnelConfig.optional(),
  databases: z.record(dnsLabel, databaseConfig).optional(),
  gateways: z.record(dnsLabel, gatewayConfig).optional(),
  services: z.record(dnsLabel, serviceConfig).optional(),
});

const localBackend = z.strictObject({
  type: z.literal("local"),
  directory: z
    .string()
    .regex(
      /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/,
      "must be a relative folder such as terraform-state",
    )
    .optional()
    .describe("Folder for the state files, relative to the project root."),
});

const cloudBackend = z.strictObject({
  type: z.literal("cloud"),
  organization: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Terraform Cloud organization; the TF_CLOUD_ORGANIZATION environment variable overrides it.",
    ),
  workspacePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/)
    .optional()
    .describe("Workspace name prefix; each stack uses <prefix><stack id>."),
  hostname: domainName
    .optional()
    .describe("Terraform Cloud or Enterprise host name."),
  project: z
    .string()
    .min(1)
    .optional()
    .describe("Terraform Cloud project that holds the workspaces."),
});

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  domain: domainName.describe("Apex domain of the public hostnames."),
  hostnames: z
    .enum(["nested", "flat"])
    .optional()
    .describe(
      "nested hostnames are <service>.<stack label>.<domain> and need an Advanced Certificate Manager pack; flat hostnames are <service>-<stack label>.<domain> and are covered by Universal SSL.",
    ),
  timezone: z
    .string()
    .regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/)
    .optional()
    .describe("Time zone of the containers, a tz database name."),
  docker: z
    .strictObject({
      host: z.string().min(1).optional().describe("Docker daemon address."),
    })
    .optional(),
  backend: z
    .discriminatedUnion("type", [localBackend, cloudBackend])
    .optional(),
  cloudflare: z
    .strictObject({
      enabled: z.boolean(),
      /**
       * Hosts of the Advanced Certificate Manager pack that core orders: the apex, then hostnames or
       * single-label wildcards such as `*.mes.example.com`. Defaults to the apex and `*.<stack label>.<domain>`
       * for every enabled stack published through Cloudflare with `hostnames: nested`, and to no pack with
       * `flat`, whose hostnames Universal SSL covers. An empty list orders no pack.
       */
      certificateHosts: z
        .array(
          z
            .string()
            .regex(
              /^[a-z0-9*.-]+$/,
              "must be a hostname such as example.com or a wildcard such as *.mes.example.com",
            ),
        )
        .optional(),
    })
    .optional(),
  metrics: z
    .strictObject({
      enabled: z
        .boolean()
        .optional()
        .describe(
          "Run a Prometheus exporter for each stack's nginx and for each PgBouncer. Default: true when a service of kind prometheus is enabled.",
        ),
      nginxExporterImage: imageReference.optional(),
      pgbouncerExporterImage: imageReference.optional(),
    })
    .optional(),
  networks: z
    .strictObject({
      operations: dockerNetwork.optional(),
      routing: dockerNetwork.optional(),
    })
    .optional(),
  stacks: z.strictObject(
    Object.fromEntries(
      STACK_IDS.map((id) => [id, stackConfig.optional()]),
    ) as Record<StackId, z.ZodOptional<typeof stackConfig>>,
  ),
});

export type ProveitConfig = z.infer<typeof configSchema>;
export type StackConfig = z.infer<typeof stackConfig>;
export type GatewayConfig = z.infer<typeof gatewayConfig>;
export type ServiceConfig = z.infer<typeof serviceConfig>;
export type DatabaseConfig = z.infer<typeof databaseConfig>;
export type PgbouncerConfig = z.infer<typeof pgbouncerConfig>;
export type PortMapping = z.infer<typeof portMapping>;
export type HostPort = z.infer<typeof hostPort>;
export type HealthcheckConfig = z.infer<typeof healthcheck>;
export type DockerNetworkConfig = z.infer<typeof dockerNetwork>;
