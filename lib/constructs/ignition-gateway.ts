import { Container } from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Password } from "@cdktf/provider-random/lib/password";
import { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { IGNITION_PORTS } from "../config/defaults";
import { ContainerImage } from "./container-image";
import {
  HARDENED_CONTAINER,
  HostPortMapping,
  NetworkAttachment,
  toEnv,
  toHealthcheck,
  toMegabytes,
  toNetworksAdvanced,
  toPorts,
} from "./container-defaults";

/** How a gateway reaches its database: through PgBouncer, with its own role. */
export interface DatabaseConnection {
  /** Name of the database connection in the gateway, and of the database. */
  readonly database: string;
  /** Host name of PgBouncer on a network the gateway joins, such as `pgbouncer`. */
  readonly host: string;

  /** Port of PgBouncer on that network, such as 5432. */
  readonly port: number;

  /** Database role that the gateway logs in as. */
  readonly username: string;

  /** The role's password; a Terraform reference, never a literal. */
  readonly password: string;
}

/** The JDBC URL of a connection, as Ignition's PostgreSQL driver takes it. */
export function jdbcUrl(connection: DatabaseConnection): string {
  return `jdbc:postgresql://${connection.host}:${connection.port}/${connection.database}`;
}

/** Properties of an {@link IgnitionGateway}. */
export interface IgnitionGatewayProps {
  /** Name of the Docker container, also its host name. */
  readonly containerName: string;

  /**
   * Gateway name shown in the Gateway Network and the web interface.
   * @default - the container name
   */
  readonly gatewayName?: string;

  /** Ignition image, such as `inductiveautomation/ignition:8.3.0`. */
  readonly image: ContainerImage;

  /**
   * Ignition edition that the gateway runs as.
   * @default "standard"
   */
  readonly edition?: "standard" | "edge" | "maker";

  /** Networks to join; the first is the stack network. */
  readonly networks: NetworkAttachment[];

  /**
   * Host ports, mapped to the container's 8088 (HTTP), 8043 (HTTPS) and 8060 (Gateway Network).
   * @default - none
   */
  readonly ports?: HostPortMapping[];

  /**
   * Named volume for `/usr/local/bin/ignition/data`.
   * @default - `<containerName>-data`
   */
  readonly volumeName?: string;

  /**
   * User name of the gateway's first administrator.
   * @default "admin"
   */
  readonly adminUsername?: string;

  /**
   * Admin password for the first commissioning.
   * @default - a generated 24-character password, available as `adminPassword`
   */
  readonly adminPassword?: string;

  /**
   * Module identifiers to enable, such as `perspective`; the other built-in modules are disabled.
   * @default - every module of the image
   */
  readonly modules?: string[];

  /**
   * The gateway's database, reached through PgBouncer.
   * @default - none
   */
  readonly database?: DatabaseConnection;

  /**
   * Public HTTPS host name that redirects and generated links use, such as `ignition.core.example.com`.
   * @default - the address the request came in on
   */
  readonly publicHostname?: string;

  /**
   * Memory limit such as `3g`; the JVM heap maximum is set to half of it.
   * @default - no limit, and the image's default heap
   */
  readonly memory?: string;

  /**
   * Time zone of the container, as an IANA name such as `Europe/Berlin`.
   * @default "UTC"
   */
  readonly timezone?: string;

  /**
   * Docker provider of the stack, when it has more than one.
   * @default - the stack's default provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * An Ignition gateway container with its data directory in a named volume
 * that survives container replacement and is protected from `destroy`.
 *
 * @example
 * ```ts
 * import { TerraformStack } from "cdktf";
 * import { ContainerImage, IgnitionGateway, SharedDatabase } from "proveit-stacks";
 *
 * // A stack with the Docker and random providers, and a database with a database named "plant".
 * declare const stack: TerraformStack;
 * declare const database: SharedDatabase;
 *
 * const gateway = new IgnitionGateway(stack, "gateway", {
 *   containerName: "plant-ignition",
 *   image: ContainerImage.fromRegistry("inductiveautomation/ignition:8.3.0"),
 *   networks: [{ name: "plant-network", aliases: ["ignition"] }],
 *   ports: [{ internal: 8088, external: 8088 }],
 *   modules: ["perspective"],
 *   database: database.connectionFor("plant"),
 *   memory: "3g",
 * });
 * ```
 */
export class IgnitionGateway extends Construct {
  /** The gateway's `docker_container`. */
  public readonly container: Container;

  /** The `docker_volume` of the data directory. */
  public readonly volume: Volume;

  /** The admin password; a sensitive Terraform reference. */
  public readonly adminPassword: string;

  /** Name of the Docker container. */
  public readonly containerName: string;

  constructor(scope: Construct, id: string, props: IgnitionGatewayProps) {
    super(scope, id);
    const provider = props.provider;
    this.containerName = props.containerName;

    let adminPassword = props.adminPassword;
    if (adminPassword === undefined) {
      const generated = new Password(this, "admin-password", { length: 24, special: false });
      adminPassword = generated.result;
    }
    this.adminPassword = adminPassword;

    this.volume = new Volume(this, "data", {
      name: props.volumeName ?? `${props.containerName}-data`,
      provider,
      lifecycle: { preventDestroy: true },
    });

    const environment: Record<string, string> = {
      ACCEPT_IGNITION_EULA: "Y",
      GATEWAY_ADMIN_USERNAME: props.adminUsername ?? "admin",
      GATEWAY_ADMIN_PASSWORD: adminPassword,
      IGNITION_EDITION: props.edition ?? "standard",
      TZ: props.timezone ?? "UTC",
    };
    if (props.modules && props.modules.length > 0) {
      environment.GATEWAY_MODULES_ENABLED = props.modules.join(",");
    }
    if (props.database) {
      environment.PROVEIT_DB_URL = jdbcUrl(props.database);
      environment.PROVEIT_DB_USERNAME = props.database.username;
      environment.PROVEIT_DB_PASSWORD = props.database.password;
    }

    // Gateway arguments: -n names the gateway; -a, -h and -s set the public address that redirects use.
    const command = ["-n", props.gatewayName ?? props.containerName];
    if (props.publicHostname) {
      command.push("-a", props.publicHostname, "-h", "443", "-s", "443");
    }
    if (props.memory) {
      command.push("--", `wrapper.java.maxmemory=${Math.floor(toMegabytes(props.memory) / 2)}`);
    }

    this.container = new Container(this, "container", {
      ...HARDENED_CONTAINER,
      provider,
      name: props.containerName,
      image: props.image.bind(this, provider),
      hostname: props.containerName,
      env: toEnv(environment),
      command,
      networksAdvanced: toNetworksAdvanced(props.networks),
      ports: toPorts(props.ports ?? []),
      volumes: [{ volumeName: this.volume.name, containerPath: "/usr/local/bin/ignition/data" }],
      memory: props.memory ? toMegabytes(props.memory) : undefined,
      // A first boot commissions the gateway and unpacks modules, which takes minutes on a small host.
      healthcheck: toHealthcheck({
        test: ["CMD-SHELL", `curl -fsS --max-time 3 http://127.0.0.1:${IGNITION_PORTS.http}/StatusPing | grep -q RUNNING`],
        intervalSeconds: 15,
        timeoutSeconds: 5,
        retries: 5,
        startPeriodSeconds: 300,
      }),
    });
  }
}
