import { Container } from "@cdktf/provider-docker/lib/container";
import { DataCloudflareZeroTrustTunnelCloudflaredToken } from "@cdktf/provider-cloudflare/lib/data-cloudflare-zero-trust-tunnel-cloudflared-token";
import { DnsRecord } from "@cdktf/provider-cloudflare/lib/dns-record";
import { ZeroTrustTunnelCloudflared } from "@cdktf/provider-cloudflare/lib/zero-trust-tunnel-cloudflared";
import { ZeroTrustTunnelCloudflaredConfigA } from "@cdktf/provider-cloudflare/lib/zero-trust-tunnel-cloudflared-config";
import { Password } from "@cdktf/provider-random/lib/password";
import { Fn, TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { CLOUDFLARED_METRICS_ADDRESS } from "../config/defaults";
import { ContainerImage } from "./container-image";
import { HARDENED_CONTAINER, NetworkAttachment, toHealthcheck, toNetworksAdvanced } from "./container-defaults";

/** Properties of a {@link TunnelStack}. */
export interface TunnelStackProps {
  /** Tunnel name in Cloudflare, such as `proveit-core`. */
  readonly tunnelName: string;

  /** Cloudflare account id that owns the tunnel; pass a sensitive variable's value, not a literal. */
  readonly accountId: string;

  /** Cloudflare zone id of the domain that the host names belong to. */
  readonly zoneId: string;

  /** Public host names routed through the tunnel, one ingress rule and one DNS record each. */
  readonly hostnames: string[];

  /** Origin for every host name: the stack's nginx, such as `http://core-nginx:80`. */
  readonly origin: string;

  /** Name of the cloudflared Docker container. */
  readonly containerName: string;

  /** cloudflared image, such as `cloudflare/cloudflared:2025.9.1`. */
  readonly image: ContainerImage;

  /** routing-network, with the fixed address that nginx trusts. */
  readonly network: NetworkAttachment;

  /** The stack's nginx container; cloudflared starts after it is healthy. */
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
 * rules ending in a catch-all 404, a proxied DNS record per host name, and
 * the cloudflared container that runs it with the tunnel's token.
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
 *   image: ContainerImage.fromRegistry("cloudflare/cloudflared:2025.9.1"),
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

  /** The cloudflared `docker_container`. */
  public readonly container: Container;


  constructor(scope: Construct, id: string, props: TunnelStackProps) {
    super(scope, id);
    const cloudflare = props.cloudflareProvider;

    const secret = new Password(this, "tunnel-secret", { length: 48, special: false });
    this.tunnel = new ZeroTrustTunnelCloudflared(this, "tunnel", {
      provider: cloudflare,
      accountId: props.accountId,
      name: props.tunnelName,
      configSrc: "cloudflare",
      tunnelSecret: Fn.base64encode(secret.result),
    });

    // Cloudflare requires the last rule to match every request; it answers 404 for host names not listed.
    this.configuration = new ZeroTrustTunnelCloudflaredConfigA(this, "configuration", {
      provider: cloudflare,
      accountId: props.accountId,
      tunnelId: this.tunnel.id,
      config: {
        ingress: [
          ...props.hostnames.map((hostname) => ({ hostname, service: props.origin })),
          { service: "http_status:404" },
        ],
      },
    });

    this.records = props.hostnames.map(
      (hostname) =>
        new DnsRecord(this, `record-${hostname.replace(/[^a-z0-9]+/g, "-")}`, {
          provider: cloudflare,
          zoneId: props.zoneId,
          name: hostname,
          type: "CNAME",
          content: `${this.tunnel.id}.cfargotunnel.com`,
          proxied: true,
          ttl: 1,
          comment: `Cloudflare tunnel ${props.tunnelName}, managed by proveit-stacks`,
        }),
    );

    // Provider 5.x no longer exports the token from the tunnel resource; this data source reads it.
    const token = new DataCloudflareZeroTrustTunnelCloudflaredToken(this, "token", {
      provider: cloudflare,
      accountId: props.accountId,
      tunnelId: this.tunnel.id,
    });

    this.container = new Container(this, "container", {
      ...HARDENED_CONTAINER,
      provider: props.dockerProvider,
      name: props.containerName,
      image: props.image.bind(this, props.dockerProvider),
      command: ["tunnel", "--no-autoupdate", "run"],
      env: [`TUNNEL_TOKEN=${token.token}`, `TUNNEL_METRICS=${CLOUDFLARED_METRICS_ADDRESS}`],
      networksAdvanced: toNetworksAdvanced([props.network]),
      // The image has no shell, curl or wget; cloudflared checks its own readiness endpoint.
      healthcheck: toHealthcheck({
        test: ["CMD", "cloudflared", "tunnel", "--metrics", CLOUDFLARED_METRICS_ADDRESS, "ready"],
        intervalSeconds: 15,
        timeoutSeconds: 5,
        retries: 3,
        startPeriodSeconds: 20,
      }),
      dependsOn: [props.dependsOn, this.configuration],
    });
  }
}
