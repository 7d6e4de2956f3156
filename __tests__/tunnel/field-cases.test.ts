import { Container } from "@cdktf/provider-docker/lib/container";
import { ZeroTrustTunnelCloudflared } from "@cdktf/provider-cloudflare/lib/zero-trust-tunnel-cloudflared";
import { TerraformStack, Testing } from "cdktf";
import { certificateCovers } from "../../lib/config/certificates";
import { ConfigError } from "../../lib/config/errors";
import { loadDeployment, parseDeployment } from "../../lib/config/load";
import { ContainerImage } from "../../lib/constructs/container-image";
import {
  TUNNEL_CATCH_ALL_SERVICE,
  TunnelStack,
  TunnelStackProps,
} from "../../lib/constructs/tunnel-stack";
import {
  DEFAULT_CONFIG,
  resourcesOfType,
  StackJson,
  synthDeployment,
  SynthResult,
} from "../support/synth";
import { editConfig, publicHostnames } from "./helpers";

/** Synthesizes one TunnelStack in a stack of its own and returns the stack's JSON. */
function synthTunnel(props: Partial<TunnelStackProps>): StackJson {
  const stack = new TerraformStack(Testing.app(), "test");
  const nginx = new Container(stack, "nginx", {
    name: "proveit-test-nginx",
    image: "nginx:1.28.0-alpine",
  });
  new TunnelStack(stack, "tunnel", {
    tunnelName: "proveit-test",
    accountId: "${var.cloudflare_account_id}",
    zoneId: "${var.cloudflare_zone_id}",
    hostnames: [],
    origin: "http://test-nginx:80",
    containerName: "proveit-test-cloudflared",
    image: ContainerImage.fromLocal("cloudflare/cloudflared:2025.11.1"),
    network: { name: "routing-network", ipv4Address: "10.213.1.20" },
    dependsOn: nginx,
    ...props,
  });
  return JSON.parse(Testing.synth(stack));
}

function ingressOf(stack: StackJson): StackJson[] {
  return Object.values(
    resourcesOfType(stack, "cloudflare_zero_trust_tunnel_cloudflared_config"),
  )[0].config.ingress;
}

// Cloudflare rejects a tunnel configuration whose only rule is a wildcard hostname
// ("the last rule must match all URLs"), so every configuration ends with a catch-all.
describe("wildcard-only ingress case", () => {
  test("wildcard rule is followed by catch-all", () => {
    const ingress = ingressOf(
      synthTunnel({ hostnames: ["*.mes.example.com"] }),
    );
    expect(ingress).toEqual([
      { hostname: "*.mes.example.com", service: "http://test-nginx:80" },
      { service: TUNNEL_CATCH_ALL_SERVICE },
    ]);
  });

  test("tunnel without hostnames has catch-all", () => {
    expect(ingressOf(synthTunnel({ hostnames: [] }))).toEqual([
      { service: TUNNEL_CATCH_ALL_SERVICE },
    ]);
  });

  test("duplicate hostname is rejected", () => {
    expect(() =>
      synthTunnel({ hostnames: ["a.mes.example.com", "a.mes.example.com"] }),
    ).toThrow("lists the hostname a.mes.example.com twice");
  });
});

// Universal SSL covers the apex and one level of subdomain only, so browsers fail the TLS handshake for
// frontend.mes.example.com (ERR_SSL_VERSION_OR_CIPHER_MISMATCH) unless an advanced certificate covers it.
describe("two-level hostname case", () => {
  let result: SynthResult;
  beforeAll(() => {
    result = synthDeployment(loadDeployment(DEFAULT_CONFIG, {}));
  });
  afterAll(() => result?.cleanup());

  test("pack covers two-level hostnames", () => {
    const hosts: string[] = Object.values(
      resourcesOfType(result.stacks.core, "cloudflare_certificate_pack"),
    )[0].hosts;
    const twoLevel = result.deployment.stacks
      .filter((spec) => spec.tunnel)
      .flatMap(publicHostnames)
      .filter(
        (hostname) =>
          hostname.split(".").length >
          result.deployment.domain.split(".").length + 1,
      );
    expect(twoLevel).toContain("frontend.mes.example.com");
    for (const hostname of twoLevel) {
      expect({
        hostname,
        covered: hosts.some((host) => certificateCovers(host, hostname)),
      }).toEqual({ hostname, covered: true });
    }
  });

  test("pack without stack wildcard is rejected", () => {
    const text = editConfig(DEFAULT_CONFIG, (document) =>
      document.setIn(
        ["cloudflare", "certificateHosts"],
        [
          "example.com",
          "*.core.example.com",
          "*.mes.example.com",
          "*.analytics.example.com",
        ],
      ),
    );
    expect(() => parseDeployment(text, "test.yaml", {})).toThrow(ConfigError);
    expect(() => parseDeployment(text, "test.yaml", {})).toThrow(
      "no edge certificate covers ignition.scada.example.com",
    );
  });
});

// Code written for provider 4.x reads tunnel_token from the tunnel resource. Provider 5.x has no
// such attribute, so cloudflared would start without a token.
describe("tunnel token case", () => {
  test("5.x tunnel has no token attribute", () => {
    expect("tunnelToken" in ZeroTrustTunnelCloudflared.prototype).toBe(false);
  });

  test("TUNNEL_TOKEN references token data source", () => {
    const stack = synthTunnel({ hostnames: ["ignition.test.example.com"] });
    const tokenId = Object.keys(
      stack.data.cloudflare_zero_trust_tunnel_cloudflared_token,
    )[0];
    const env: string[] = Object.values(
      resourcesOfType(stack, "docker_container"),
    ).find((container) => container.name === "proveit-test-cloudflared")!.env;
    expect(env).toContain(
      `TUNNEL_TOKEN=\${sensitive(data.cloudflare_zero_trust_tunnel_cloudflared_token.${tokenId}.token)}`,
    );
  });

  test("nothing reads tunnel_token", () => {
    const stack = synthTunnel({ hostnames: ["ignition.test.example.com"] });
    expect(JSON.stringify(stack)).not.toMatch(
      /cloudflare_zero_trust_tunnel_cloudflared\.[^.]+\.tunnel_token/,
    );
  });
});
