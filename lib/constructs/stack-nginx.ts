import { Container } from "@cdktf/provider-docker/lib/container";
import { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { NGINX_LOCAL_PORT, NGINX_PUBLIC_PORT } from "../config/defaults";
import {
  NGINX_HEALTH_PATH,
  NginxRoute,
  renderNginxConfig,
} from "../rendering/nginx-conf";
import { ContainerImage } from "./container-image";
import {
  HARDENED_CONTAINER,
  HostPortMapping,
  NetworkAttachment,
  toHealthcheck,
  toNetworksAdvanced,
  toPorts,
  wgetTest,
} from "./container-defaults";

/** Properties of a {@link StackNginx}. */
export interface StackNginxProps {
  /** Stack id, used in upstream names and comments. */
  readonly stack: string;

  /** Name of the Docker container, also its host name. */
  readonly containerName: string;

  /** nginx image, such as `nginx:1.28.0-alpine`. */
  readonly image: ContainerImage;

  /** Networks to join: the stack network and routing-network. */
  readonly networks: readonly NetworkAttachment[];

  /** Services reached through this proxy; their upstream addresses must be fixed IPv4 addresses. */
  readonly routes: readonly NginxRoute[];

  /**
   * Host port of the local entry point, mapped to the container's 8080.
   * @default - not published
   */
  readonly localPort?: HostPortMapping;

  /**
   * Address of the stack's cloudflared on routing-network; only its requests may set the client address.
   * @default - no trusted proxy
   */
  readonly trustedProxy?: string;

  /**
   * Docker provider that creates the container and its image.
   * @default - the stack's default Docker provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * A stack's nginx reverse proxy. Its configuration is rendered from the
 * routes and uploaded into the container, so it needs no file on the Docker
 * host, and a change of routes replaces the container. Only the local port is
 * published on the host; the public port is reached over routing-network.
 *
 * @example
 * ```ts
 * import { TerraformStack } from "cdktf";
 * import { ContainerImage, StackNginx } from "proveit-stacks";
 *
 * // A stack with the Docker provider.
 * declare const stack: TerraformStack;
 *
 * const nginx = new StackNginx(stack, "nginx", {
 *   stack: "plant",
 *   containerName: "plant-nginx",
 *   image: ContainerImage.fromRegistry("nginx:1.28.0-alpine"),
 *   networks: [{ name: "plant-network" }, { name: "routing-network", aliases: ["plant-nginx"] }],
 *   routes: [
 *     {
 *       key: "ignition",
 *       hostname: "ignition.plant.example.com",
 *       localPath: "/",
 *       servers: [{ address: "10.213.2.10", port: 8088 }],
 *     },
 *   ],
 *   localPort: { internal: 8080, external: 8080 },
 * });
 * ```
 */
export class StackNginx extends Construct {
  /** The nginx `docker_container`. */
  public readonly container: Container;

  /** The rendered `nginx.conf`. */
  public readonly configuration: string;

  constructor(scope: Construct, id: string, props: StackNginxProps) {
    super(scope, id);
    this.configuration = renderNginxConfig({
      stack: props.stack,
      routes: props.routes,
      publicPort: NGINX_PUBLIC_PORT,
      localPort: NGINX_LOCAL_PORT,
      trustedProxy: props.trustedProxy,
    });

    this.container = new Container(this, "container", {
      ...HARDENED_CONTAINER,
      provider: props.provider,
      name: props.containerName,
      image: props.image.bind(this, props.provider),
      hostname: props.containerName,
      upload: [{ file: "/etc/nginx/nginx.conf", content: this.configuration }],
      networksAdvanced: toNetworksAdvanced(props.networks),
      ports: toPorts(props.localPort ? [props.localPort] : []),
      healthcheck: toHealthcheck({
        test: wgetTest(
          `http://127.0.0.1:${NGINX_LOCAL_PORT}${NGINX_HEALTH_PATH}`,
        ),
        intervalSeconds: 10,
        timeoutSeconds: 3,
        retries: 3,
        startPeriodSeconds: 5,
      }),
      // cloudflared starts only once this container reports healthy.
      wait: true,
      waitTimeout: 120,
    });
  }
}
