import { Container } from "@cdktf/provider-docker/lib/container";
import { DataCloudflareZeroTrustTunnelCloudflaredToken } from "@cdktf/provider-cloudflare/lib/data-cloudflare-zero-trust-tunnel-cloudflared-token";
import { DnsRecord } from "@cdktf/provider-cloudflare/lib/dns-record";
import { ZeroTrustTunnelCloudflared } from "@cdktf/provider-cloudflare/lib/zero-trust-tunnel-cloudflared";
import { ZeroTrustTunnelCloudflaredConfigA } from "@cdktf/provider-cloudflare/lib/zero-trust-tunnel-cloudflared-config";
import { Fn, TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import {
  CLOUDFLARED_METRICS_ADDRESS,
  CLOUDFLARED_READY_ADDRESS,
} from "../config/defaults";
import { ContainerImage } from "./container-image";
import {
  HARDENED_CONTAINER,
  NetworkAttachment,
  toHealthcheck,
  toNetworksAdvanced,
} from "./container-defaults";

/** Service of the last ingress rule, which matches every request that no hostname rule matched. */
export const TUNNEL_CATCH_ALL_SERVICE = "http_status:404";

/** Properties of a {@link TunnelStack}. */
export interface TunnelStackProps {
  /** Tunnel name in the Cloudflare account, such as `proveit-core`; unique in the account. */
  readonly tunnelName: string;

  /** Cloudflare account id, usually a reference to a sensitive Terraform variable. */
  readonly accountId: string;

  /** Cloudflare zone id of the domain the hostnames belong to, usually a reference to a sensitive variable. */
  readonly zoneId: string;

  /** Public hostnames routed through the tunnel, one ingress rule and one DNS record each. */
  readonly hostnames: readonly string[];

  /** Origin for every hostname: the stack's nginx, such as `http://core-nginx:80`. */
  readonly origin: string;

  /** Name of the cloudflared Docker container. */
  readonly containerName: string;

  /** cloudflared image, such as `cloudflare/cloudflared:2025.11.1`. */
  readonly image: ContainerImage;

  /** routing-network, with the fixed address that nginx trusts. */
  readonly network: NetworkAttachment;

  /** The stack's nginx container; cloudflared starts after it is healthy, so nginx must be created with `wait`. */
  readonly dependsOn: Container;

  /**
   * Cloudflare provider of the stack.
   * @default - the stack's default Cloudflare provider
   */
  readonly cloudflareProvider?: TerraformProvider;

  /**
   * Docker provider of the stack.
   * @default - the stack's default Docker provider
   */
  readonly dockerProvider?: TerraformProvider;
}

/**
 * A remotely managed Cloudflare tunnel for one stack: the tunnel, its ingress
 * rules ending in a catch-all 404, a proxied DNS record per hostname, and the
 * cloudflared container that runs it with the tunnel's token.
 *
 * Cloudflare generates the tunnel secret. The token, which contains it, is
 * read from the provider, marked sensitive and passed to cloudflared as
 * `TUNNEL_TOKEN`: it reaches Terraform state and the container's environment,
 * never the synthesized JSON or the plan output.
 *
 * @example
 * ```ts
 * import { TerraformStack, TerraformVariable } from "cdktf";
 * import { ContainerImage, StackNginx, TunnelStack } from "proveit-stacks";
 *
 * // A stack with the Docker, random and Cloudflare providers, and its nginx.
 * declare const stack: TerraformStack;
 * declare const nginx: StackNginx;
 *
 * const accountId = new TerraformVariable(stack, "cloudflare_account_id", { type: "string", sensitive: true });
 * const zoneId = new TerraformVariable(stack, "cloudflare_zone_id", { type: "string", sensitive: true });
 * new TunnelStack(stack, "tunnel", {
 *   tunnelName: "proveit-plant",
 *   accountId: accountId.stringValue,
 *   zoneId: zoneId.stringValue,
 *   hostnames: ["ignition.plant.example.com"],
 *   origin: "http://plant-nginx:80",
 *   containerName: "plant-cloudflared",
 *   image: ContainerImage.fromRegistry("cloudflare/cloudflared:2025.11.1"),
 *   network: { name: "routing-network", ipv4Address: "10.213.1.20" },
 *   dependsOn: nginx.container,
 * });
 * ```
 */
export class TunnelStack extends Construct {
  /** The `cloudflare_zero_trust_tunnel_cloudflared` resource. */
  public readonly tunnel: ZeroTrustTunnelCloudflared;

  /** The tunnel's ingress rules. */
  public readonly configuration: ZeroTrustTunnelCloudflaredConfigA;

  /** One proxied CNAME `cloudflare_dns_record` per host name, in the order of the `hostnames` prop. */
  public readonly records: DnsRecord[];
  /** The data source that reads the tunnel's token from Cloudflare. */
  public readonly token: DataCloudflareZeroTrustTunnelCloudflaredToken;

  /** The cloudflared `docker_container`. */
  public readonly container: Container;

  constructor(scope: Construct, id: string, props: TunnelStackProps) {
    super(scope, id);
    const cloudflare = props.cloudflareProvider;
    const duplicate = props.hostnames.find(
      (hostname, index) => props.hostnames.indexOf(hostname) !== index,
    );
    if (duplicate) {
      throw new Error(
        `Tunnel ${props.tunnelName} lists the hostname ${duplicate} twice; give each ingress rule its own hostname.`,
      );
    }

    this.tunnel = new ZeroTrustTunnelCloudflared(this, "tunnel", {
      provider: cloudflare,
      accountId: props.accountId,
      name: props.tunnelName,
      configSrc: "cloudflare",
    });

    // Cloudflare rejects a configuration whose last rule does not match every request, a wildcard hostname included.
    this.configuration = new ZeroTrustTunnelCloudflaredConfigA(
      this,
      "configuration",
      {
        provider: cloudflare,
        accountId: props.accountId,
        tunnelId: this.tunnel.id,
        source: "cloudflare",
        config: {
          ingress: [
            ...props.hostnames.map((hostname) => ({
              hostname,
              service: props.origin,
            })),
            { service: TUNNEL_CATCH_ALL_SERVICE },
          ],
        },
      },
    );

    this.records = props.hostnames.map(
      (hostname) =>
        new DnsRecord(this, `record-${hostname.replace(/[^a-z0-9]+/g, "-")}`, {
          provider: cloudflare,
          zoneId: props.zoneId,
          name: hostname,
          type: "CNAME",
          content: `${this.tunnel.id}.cfargotunnel.com`,
          proxied: true,
          // 1 is Cloudflare's automatic TTL, the only TTL a proxied record has.
          ttl: 1,
          comment: `Cloudflare tunnel ${props.tunnelName}, managed by proveit-stacks`,
        }),
    );

    // Provider 5.x has no tunnel_token on the tunnel resource; this data source reads it.
    this.token = new DataCloudflareZeroTrustTunnelCloudflaredToken(
      this,
      "token",
      {
        provider: cloudflare,
        accountId: props.accountId,
        tunnelId: this.tunnel.id,
      },
    );

    this.container = new Container(this, "container", {
      ...HARDENED_CONTAINER,
      provider: props.dockerProvider,
      name: props.containerName,
      image: props.image.bind(this, props.dockerProvider),
      command: ["tunnel", "--no-autoupdate", "run"],
      // The provider does not mark the token sensitive (5.14.0); sensitive() keeps it out of plan output.
      env: [
        `TUNNEL_TOKEN=${Fn.sensitive(this.token.token)}`,
        `TUNNEL_METRICS=${CLOUDFLARED_METRICS_ADDRESS}`,
      ],
      networksAdvanced: toNetworksAdvanced([props.network]),
      // cloudflared keeps its state in memory when it runs with a token; a small /tmp covers scratch files.
      readOnly: true,
      tmpfs: { "/tmp": "rw,noexec,nosuid,size=16m" },
      // The image has no shell, curl or wget; cloudflared queries its own readiness endpoint.
      healthcheck: toHealthcheck({
        test: [
          "CMD",
          "cloudflared",
          "tunnel",
          "--metrics",
          CLOUDFLARED_READY_ADDRESS,
          "ready",
        ],
        intervalSeconds: 15,
        timeoutSeconds: 5,
        retries: 3,
        startPeriodSeconds: 20,
      }),
      dependsOn: [props.dependsOn, this.configuration],
    });
  }
}
