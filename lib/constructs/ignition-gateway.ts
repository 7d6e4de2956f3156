import * as path from "node:path";
import {
  Container,
  ContainerUpload,
} from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Password } from "@cdktf/provider-random/lib/password";
import {
  Annotations,
  AssetType,
  TerraformAsset,
  TerraformProvider,
  Token,
} from "cdktf";
import { Construct } from "constructs";
import { IGNITION_PORTS } from "../config/defaults";
import {
  PASSWORD_VARIABLE,
  POSTGRES_DRIVER,
  POSTGRES_TRANSLATOR,
  renderDatabaseConnection,
  renderSeedEntrypoint,
  renderStatusPingCheck,
  SEED_DIRECTORY,
  SEED_ENTRYPOINT,
} from "../rendering/ignition-resources";
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
import { DatabaseConnection, jdbcUrl } from "./database-connection";

/** Ignition release lines whose container images this construct supports. */
export type IgnitionVersion = "8.1" | "8.3";

/** A third-party module: its identifier (the `<id>` of its module.xml) and its .modl file on the machine that synthesizes. */
export interface ThirdPartyModule {
  /** Module identifier, such as `com.example.mymodule`. */
  readonly id: string;
  /** Path of the .modl file, read at synth. */
  readonly file: string;
}

/** Values of the gateway's database connection, as an operator would enter them on the gateway's Database Connections page. */
export interface DatabaseConnectionSettings {
  /** Connection name in the gateway. */
  readonly name: string;
  /** JDBC driver name as the gateway lists it. */
  readonly driver: string;
  /** Database translator name. */
  readonly translator: string;
  /** JDBC URL through PgBouncer. */
  readonly connectUrl: string;
  /** Role the gateway logs in as. */
  readonly username: string;
  /** A sensitive Terraform reference. */
  readonly password: string;
}

/** An outgoing Gateway Network connection to another gateway. */
export interface GatewayNetworkConnection {
  /** Host name of the other gateway on a network both join. */
  readonly host: string;
  /**
   * Gateway Network port of the other gateway.
   * @default 8060
   */
  readonly port?: number;
  /**
   * Text shown for the connection in the gateway's web interface.
   * @default - the host name
   */
  readonly description?: string;
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
   * Release line of the image, which decides how the database connection and modules are delivered.
   * @default - read from the image tag (`8.1.x` or `8.3.x`), else "8.3"
   */
  readonly ignitionVersion?: IgnitionVersion;

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
   * Named volume for `/usr/local/bin/ignition/data`, which contains the gateway's whole identity and configuration.
   * @default - `<containerName>-data`
   */
  readonly volumeName?: string;

  /**
   * User name of the gateway's first administrator.
   * @default "admin"
   */
  readonly adminUsername?: string;

  /**
   * Admin password for the first commissioning; pass a Terraform reference, such as a generated password.
   * @default - a generated 24-character password, available as `adminPassword`
   */
  readonly adminPassword?: string;

  /**
   * Module identifiers to enable; the gateway's other modules are disabled.
   * @default - every module of the image, plus the third-party modules
   */
  readonly modules?: string[];

  /**
   * Third-party modules to install; their licences and certificates are accepted on start.
   * @default - none
   */
  readonly thirdPartyModules?: ThirdPartyModule[];

  /**
   * JDBC driver .jar files on the machine that synthesizes, installed into the gateway.
   * @default - none
   */
  readonly jdbcDrivers?: string[];

  /**
   * The gateway's database, usually `SharedDatabase.connectionFor(...)`.
   * @default - none
   */
  readonly database?: DatabaseConnection;

  /**
   * Name of the database connection in the gateway; it names a folder of the data directory, so it must be known at synthesis.
   * @default - the database name when it is a literal, else "database"
   */
  readonly databaseConnectionName?: string;

  /**
   * Public HTTPS host name that redirects and generated links use, such as `ignition.core.example.com`.
   * @default - the address the request came in on
   */
  readonly publicHostname?: string;

  /**
   * Outgoing Gateway Network connections, created at the first start. The receiving
   * gateway approves them under its own security settings.
   * @default - none
   */
  readonly gatewayNetwork?: GatewayNetworkConnection[];

  /**
   * Memory limit such as `3g`; the JVM heap maximum is set to half of it.
   * @default - no limit, and the image's default heap
   */
  readonly memory?: string;

  /**
   * Time zone of the gateway, a tz database name.
   * @default "UTC"
   */
  readonly timezone?: string;

  /**
   * Docker provider of the stack, when it has more than one.
   * @default - the stack's default provider
   */
  readonly provider?: TerraformProvider;
}

const INSTALL_DIRECTORY = "/usr/local/bin/ignition";
const DATA_DIRECTORY = `${INSTALL_DIRECTORY}/data`;

/** Reads the release line from an image reference such as `inductiveautomation/ignition:8.3.2`. */
export function ignitionVersionOf(image: string): IgnitionVersion | undefined {
  const tag = /:(\d+)\.(\d+)[^/]*$/.exec(image.split("@")[0]);
  if (!tag) {
    return undefined;
  }
  const line = `${tag[1]}.${tag[2]}`;
  return line === "8.1" || line === "8.3" ? line : undefined;
}

/**
 * An Ignition gateway container with its data directory in a named volume
 * that survives container replacement and image upgrades and is protected
 * from `destroy`. Everything that makes up the gateway's identity (system
 * name, UUID, Gateway Network certificates and approvals, licence) is in that
 * directory, so a replaced container is the same gateway.
 *
 * With Ignition 8.3 the database connection is written as a configuration
 * resource into the gateway's external collection on every start. With 8.1
 * it is exposed as `databaseSettings`, for an operator to enter once.
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
  /** Release line the construct configured the gateway for. */
  public readonly ignitionVersion: IgnitionVersion;
  /** The database connection's values; seeded automatically with 8.3, entered by hand with 8.1. */
  public readonly databaseSettings?: DatabaseConnectionSettings;

  constructor(scope: Construct, id: string, props: IgnitionGatewayProps) {
    super(scope, id);
    const provider = props.provider;
    this.containerName = props.containerName;
    this.ignitionVersion =
      props.ignitionVersion ?? ignitionVersionOf(props.image.name) ?? "8.3";
    if (!props.ignitionVersion && !ignitionVersionOf(props.image.name)) {
      Annotations.of(this).addWarning(
        `Cannot read the Ignition release line from image "${props.image.name}"; treating it as 8.3. Pin a tag such as 8.3.2 to make it explicit.`,
      );
    }

    this.adminPassword =
      props.adminPassword ??
      new Password(this, "admin-password", { length: 24, special: false })
        .result;

    this.volume = new Volume(this, "data", {
      name: props.volumeName ?? `${props.containerName}-data`,
      provider,
      lifecycle: { preventDestroy: true },
    });

    const environment = this.environment(props);
    const uploads = this.addonUploads(props, environment);
    let entrypoint: string[] | undefined;
    if (props.database) {
      this.databaseSettings = {
        name:
          props.databaseConnectionName ??
          (Token.isUnresolved(props.database.database)
            ? "database"
            : props.database.database),
        driver: POSTGRES_DRIVER,
        translator: POSTGRES_TRANSLATOR,
        connectUrl: jdbcUrl(props.database),
        username: props.database.username,
        password: props.database.password,
      };
      if (this.ignitionVersion === "8.3") {
        environment[PASSWORD_VARIABLE] = props.database.password;
        uploads.push(...this.databaseSeedUploads(this.databaseSettings));
        entrypoint = [SEED_ENTRYPOINT];
      }
    }

    this.container = new Container(this, "container", {
      ...HARDENED_CONTAINER,
      provider,
      name: props.containerName,
      image: props.image.bind(this, provider),
      hostname: props.containerName,
      env: toEnv(environment),
      entrypoint,
      command: this.command(props),
      upload: uploads.length > 0 ? uploads : undefined,
      networksAdvanced: toNetworksAdvanced(props.networks),
      ports: toPorts(props.ports ?? []),
      volumes: [
        { volumeName: this.volume.name, containerPath: DATA_DIRECTORY },
      ],
      memory: props.memory ? toMegabytes(props.memory) : undefined,
      // The gateway saves its internal databases on a clean stop; without a grace period the
      // provider removes the container with SIGKILL.
      stopTimeout: 120,
      destroyGraceSeconds: 120,
      // A first boot commissions the gateway and unpacks modules, which takes minutes on a small host.
      healthcheck: toHealthcheck({
        test: ["CMD", "bash", "-c", renderStatusPingCheck(IGNITION_PORTS.http)],
        intervalSeconds: 15,
        timeoutSeconds: 10,
        retries: 5,
        startPeriodSeconds: 300,
      }),
    });
  }

  private environment(props: IgnitionGatewayProps): Record<string, string> {
    const environment: Record<string, string> = {
      ACCEPT_IGNITION_EULA: "Y",
      GATEWAY_ADMIN_USERNAME: props.adminUsername ?? "admin",
      GATEWAY_ADMIN_PASSWORD: this.adminPassword,
      IGNITION_EDITION: props.edition ?? "standard",
      DISABLE_QUICKSTART: "true",
      TZ: props.timezone ?? "UTC",
    };
    const thirdParty = (props.thirdPartyModules ?? []).map(
      (module) => module.id,
    );
    if (props.modules && props.modules.length > 0) {
      // The list disables every module it leaves out, third-party ones included.
      environment.GATEWAY_MODULES_ENABLED = [
        ...new Set([...props.modules, ...thirdParty]),
      ].join(",");
    }
    if (thirdParty.length > 0) {
      environment.ACCEPT_MODULE_LICENSES = thirdParty.join(",");
      environment.ACCEPT_MODULE_CERTS = thirdParty.join(",");
    }
    (props.gatewayNetwork ?? []).forEach((connection, index) => {
      environment[`GATEWAY_NETWORK_${index}_HOST`] = connection.host;
      environment[`GATEWAY_NETWORK_${index}_PORT`] = String(
        connection.port ?? IGNITION_PORTS.gan,
      );
      environment[`GATEWAY_NETWORK_${index}_DESCRIPTION`] =
        connection.description ?? connection.host;
    });
    return environment;
  }

  /**
   * Gateway runtime arguments: `-n` names the gateway; `-a`, `-h` and `-s`
   * (which the image requires together) set the public address that
   * redirects and links use. After `--` come wrapper and gateway settings.
   */
  private command(props: IgnitionGatewayProps): string[] {
    const command = ["-n", props.gatewayName ?? props.containerName];
    const settings: string[] = [];
    if (props.publicHostname) {
      command.push("-a", props.publicHostname, "-h", "80", "-s", "443");
      // Behind nginx and Cloudflare, take the client's scheme and host from the forwarded headers.
      settings.push("gateway.useProxyForwardedHeader=true");
    }
    if (props.memory) {
      settings.push(
        `wrapper.java.maxmemory=${Math.floor(toMegabytes(props.memory) / 2)}`,
      );
    }
    return settings.length > 0 ? [...command, "--", ...settings] : command;
  }

  /**
   * Uploads third-party modules and JDBC drivers into each new container, so
   * they come back after every replacement and image upgrade. The files are
   * copied into the synthesized stack as assets; Terraform uploads them from
   * there, and a changed file replaces the container.
   */
  private addonUploads(
    props: IgnitionGatewayProps,
    environment: Record<string, string>,
  ): ContainerUpload[] {
    const uploads: ContainerUpload[] = [];
    // Ignition 8.1's image links files from /modules and /jdbc at start; 8.3 loads them from user-lib.
    const legacy = this.ignitionVersion === "8.1";
    const moduleDirectory = legacy
      ? "/modules"
      : `${INSTALL_DIRECTORY}/user-lib/modules`;
    const driverDirectory = legacy
      ? "/jdbc"
      : `${INSTALL_DIRECTORY}/user-lib/jdbc`;
    for (const module of props.thirdPartyModules ?? []) {
      uploads.push(
        this.assetUpload(`module-${module.id}`, module.file, moduleDirectory),
      );
    }
    (props.jdbcDrivers ?? []).forEach((file, index) => {
      uploads.push(
        this.assetUpload(`jdbc-driver-${index}`, file, driverDirectory),
      );
    });
    if (legacy && (props.thirdPartyModules ?? []).length > 0) {
      environment.GATEWAY_MODULE_RELINK = "true";
    }
    if (legacy && (props.jdbcDrivers ?? []).length > 0) {
      environment.GATEWAY_JDBC_RELINK = "true";
    }
    return uploads;
  }

  private assetUpload(
    id: string,
    file: string,
    directory: string,
  ): ContainerUpload {
    const asset = new TerraformAsset(this, id, {
      path: file,
      type: AssetType.FILE,
    });
    return {
      file: `${directory}/${path.basename(file)}`,
      source: asset.path,
      sourceHash: asset.assetHash,
    };
  }

  private databaseSeedUploads(
    settings: DatabaseConnectionSettings,
  ): ContainerUpload[] {
    const files = renderDatabaseConnection({
      name: settings.name,
      connectUrl: settings.connectUrl,
      username: settings.username,
    });
    return [
      {
        file: SEED_ENTRYPOINT,
        content: renderSeedEntrypoint(),
        permissions: "0755",
      },
      ...files.map((seed) => ({
        file: `${SEED_DIRECTORY}/${seed.path}`,
        content: seed.content,
      })),
    ];
  }
}
