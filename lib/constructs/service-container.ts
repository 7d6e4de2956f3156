import { Container } from "@cdktf/provider-docker/lib/container";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Password } from "@cdktf/provider-random/lib/password";
import { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { ContainerImage } from "./container-image";
import {
  HARDENED_CONTAINER,
  HealthcheckOptions,
  HostPortMapping,
  NetworkAttachment,
  toEnv,
  toHealthcheck,
  toMegabytes,
  toNetworksAdvanced,
  toPorts,
} from "./container-defaults";

/** A named volume mounted into a container. */
export interface VolumeMount {
  /** Name of the Docker volume. */
  readonly name: string;

  /** Absolute path inside the container. */
  readonly path: string;
}

/** Properties of a {@link ServiceContainer}. */
export interface ServiceContainerProps {
  /** Name of the Docker container, also its host name. */
  readonly containerName: string;

  /** Image the container runs. */
  readonly image: ContainerImage;

  /** Networks to join. */
  readonly networks: NetworkAttachment[];

  /**
   * Ports published on the Docker host.
   * @default - none
   */
  readonly ports?: HostPortMapping[];

  /**
   * Plain settings; credentials belong in `generatedSecrets`.
   * @default - none
   */
  readonly environment?: Record<string, string>;

  /**
   * Environment variables whose values are passwords generated in Terraform.
   * @default - none
   */
  readonly generatedSecrets?: string[];

  /**
   * Named volumes, protected from `destroy`.
   * @default - none
   */
  readonly volumes?: VolumeMount[];

  /**
   * Command and arguments that replace the image's command.
   * @default - the image's command
   */
  readonly command?: string[];

  /**
   * Docker healthcheck of the container.
   * @default - the image's own healthcheck, if any
   */
  readonly healthcheck?: HealthcheckOptions;

  /**
   * Memory limit such as `1g`.
   * @default - no limit
   */
  readonly memory?: string;

  /**
   * Files written into the container before it starts.
   * @default - none
   */
  readonly files?: { readonly path: string; readonly content: string }[];

  /**
   * Docker provider of the stack, when it has more than one.
   * @default - the stack's default Docker provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * A container of the service catalog with its data in named volumes that survive container replacement.
 *
 * @example
 * ```ts
 * import { TerraformStack } from "cdktf";
 * import { ContainerImage, ServiceContainer } from "proveit-stacks";
 *
 * // A stack with the Docker and random providers.
 * declare const stack: TerraformStack;
 *
 * const grafana = new ServiceContainer(stack, "grafana", {
 *   containerName: "plant-grafana",
 *   image: ContainerImage.fromRegistry("grafana/grafana:12.1.1"),
 *   networks: [{ name: "plant-network", aliases: ["grafana"] }],
 *   generatedSecrets: ["GF_SECURITY_ADMIN_PASSWORD"],
 *   volumes: [{ name: "plant-grafana-data", path: "/var/lib/grafana" }],
 *   healthcheck: { test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3000/api/health"] },
 *   memory: "1g",
 * });
 * ```
 */
export class ServiceContainer extends Construct {
  /** The service's `docker_container`. */
  public readonly container: Container;

  /** One `docker_volume` per entry of the `volumes` prop, in the same order. */
  public readonly volumes: Volume[];

  /** Generated secrets by environment variable name; sensitive Terraform references. */
  public readonly secrets: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: ServiceContainerProps) {
    super(scope, id);
    const provider = props.provider;

    const environment: Record<string, string> = {
      ...(props.environment ?? {}),
    };
    for (const name of props.generatedSecrets ?? []) {
      // Upper, lower, digit and symbol classes satisfy SQL Server's password policy too.
      const password = new Password(this, `secret-${name.toLowerCase()}`, {
        length: 32,
        special: true,
        overrideSpecial: "-_.",
        minUpper: 2,
        minLower: 2,
        minNumeric: 2,
        minSpecial: 1,
      });
      environment[name] = password.result;
      this.secrets[name] = password.result;
    }

    this.volumes = (props.volumes ?? []).map(
      (mount) =>
        new Volume(this, `volume-${mount.name}`, {
          name: mount.name,
          provider,
          lifecycle: { preventDestroy: true },
        }),
    );

    this.container = new Container(this, "container", {
      ...HARDENED_CONTAINER,
      provider,
      name: props.containerName,
      image: props.image.bind(this, provider),
      hostname: props.containerName,
      env: toEnv(environment),
      command: props.command,
      networksAdvanced: toNetworksAdvanced(props.networks),
      ports: toPorts(props.ports ?? []),
      volumes: (props.volumes ?? []).map((mount, index) => ({
        volumeName: this.volumes[index].name,
        containerPath: mount.path,
      })),
      upload: props.files?.map((file) => ({
        file: file.path,
        content: file.content,
      })),
      healthcheck: props.healthcheck
        ? toHealthcheck(props.healthcheck)
        : undefined,
      memory: props.memory ? toMegabytes(props.memory) : undefined,
    });
  }
}
