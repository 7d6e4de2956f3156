import * as path from "node:path";
import {
  CLOUDFLARED_METRICS_ADDRESS,
  CLOUDFLARED_READY_ADDRESS,
  DEFAULT_IMAGES,
  NGINX_PUBLIC_PORT,
} from "../../lib/config/defaults";
import { loadDeployment } from "../../lib/config/load";
import { TUNNEL_CATCH_ALL_SERVICE } from "../../lib/constructs/tunnel-stack";
import {
  containerNamed,
  DEFAULT_CONFIG,
  resourcesOfType,
  StackJson,
  synthConfigText,
  synthDeployment,
  SynthResult,
} from "../support/synth";
import {
  cloudflareElements,
  editConfig,
  publicHostnames,
  SHIPPED_CONFIGS,
  single,
  singleData,
} from "./helpers";

const TUNNEL = "cloudflare_zero_trust_tunnel_cloudflared";
const CONFIGURATION = "cloudflare_zero_trust_tunnel_cloudflared_config";
const TOKEN = "cloudflare_zero_trust_tunnel_cloudflared_token";
const RECORD = "cloudflare_dns_record";

test("default cloudflared is a 2025 release", () => {
  expect(DEFAULT_IMAGES.cloudflared).toMatch(
    /^cloudflare\/cloudflared:2025\.\d+\.\d+$/,
  );
});

describe.each(SHIPPED_CONFIGS.map((file) => [path.basename(file), file]))(
  "tunnels of %s",
  (_name, file) => {
    const deployment = loadDeployment(file, {});
    const published = deployment.stacks.filter((spec) => spec.tunnel);
    let result: SynthResult;
    beforeAll(() => {
      result = synthDeployment(deployment);
    });
    afterAll(() => result?.cleanup());

    test("unpublished stacks have no tunnel", () => {
      for (const spec of deployment.stacks.filter((stack) => !stack.tunnel)) {
        expect(cloudflareElements(result.stacks[spec.id])).toEqual([]);
      }
    });

    // A loop instead of describe.each, whose table must not be empty, because a configuration may publish no stack.
    for (const spec of published) {
      describe(`stack ${spec.id}`, () => {
        const id = spec.id;
        const hostnames = publicHostnames(spec);
        const stack = (): StackJson => result.stacks[id];
        const tunnelId = (): string => single(stack(), TUNNEL).id;
        const ingress = (): StackJson[] =>
          single(stack(), CONFIGURATION).body.config.ingress;
        const cloudflared = (): StackJson =>
          containerNamed(stack(), spec.tunnel!.containerName)!;

        test("tunnel is remotely managed", () => {
          const tunnel = single(stack(), TUNNEL).body;
          expect(tunnel.config_src).toBe("cloudflare");
          expect(tunnel.name).toBe(`proveit-${id}`);
          expect(tunnel.account_id).toBe("${var.cloudflare_account_id}");
          expect(tunnel.tunnel_secret).toBeUndefined();
        });

        test("configuration references the tunnel", () => {
          const configuration = single(stack(), CONFIGURATION).body;
          expect(configuration.tunnel_id).toBe(
            `\${${TUNNEL}.${tunnelId()}.id}`,
          );
          expect(configuration.account_id).toBe("${var.cloudflare_account_id}");
          expect(configuration.source).toBe("cloudflare");
        });

        test("last ingress rule is catch-all", () => {
          expect(ingress()[ingress().length - 1]).toEqual({
            service: TUNNEL_CATCH_ALL_SERVICE,
          });
        });

        test("only the last rule lacks a hostname", () => {
          const withoutHostname = ingress().filter(
            (rule) => rule.hostname === undefined,
          );
          expect(withoutHostname).toHaveLength(1);
        });

        test("one ingress rule per hostname", () => {
          for (const hostname of hostnames) {
            expect(
              ingress().filter((rule) => rule.hostname === hostname),
            ).toHaveLength(1);
          }
          expect(ingress()).toHaveLength(hostnames.length + 1);
        });

        test("rules point at stack nginx", () => {
          for (const rule of ingress().slice(0, -1)) {
            expect(rule.service).toBe(
              `http://${id}-nginx:${NGINX_PUBLIC_PORT}`,
            );
          }
        });

        test("nginx serves every ingress hostname", () => {
          const nginx = containerNamed(stack(), spec.nginx.containerName)!;
          const configuration: string = nginx.upload[0].content;
          for (const hostname of hostnames) {
            expect(configuration).toContain(`server_name ${hostname};`);
          }
        });

        test("one proxied record per hostname", () => {
          const records = Object.values(resourcesOfType(stack(), RECORD));
          for (const hostname of hostnames) {
            const matching = records.filter(
              (record) => record.name === hostname,
            );
            expect(matching).toHaveLength(1);
            expect(matching[0].type).toBe("CNAME");
            expect(matching[0].proxied).toBe(true);
            expect(matching[0].content).toBe(
              `\${${TUNNEL}.${tunnelId()}.id}.cfargotunnel.com`,
            );
            expect(matching[0].zone_id).toBe("${var.cloudflare_zone_id}");
          }
          expect(records).toHaveLength(hostnames.length);
        });

        test("token data source reads tunnel", () => {
          const token = singleData(stack(), TOKEN).body;
          expect(token.tunnel_id).toBe(`\${${TUNNEL}.${tunnelId()}.id}`);
          expect(token.account_id).toBe("${var.cloudflare_account_id}");
        });

        test("TUNNEL_TOKEN is the sensitive token", () => {
          const tokenId = singleData(stack(), TOKEN).id;
          const entries: string[] = cloudflared().env.filter((entry: string) =>
            entry.startsWith("TUNNEL_TOKEN="),
          );
          expect(entries).toEqual([
            `TUNNEL_TOKEN=\${sensitive(data.${TOKEN}.${tokenId}.token)}`,
          ]);
        });

        test("cloudflared image is pinned", () => {
          const imageId = /^\$\{docker_image\.([^.]+)\.image_id\}$/.exec(
            cloudflared().image,
          )?.[1];
          const image = resourcesOfType(stack(), "docker_image")[imageId ?? ""];
          expect(image?.name).toBe(spec.tunnel!.image);
          expect(image?.name).toMatch(
            /^cloudflare\/cloudflared:\d{4}\.\d+\.\d+$/,
          );
        });

        test("cloudflared joins routing-network only", () => {
          const networks: StackJson[] = cloudflared().networks_advanced;
          expect(networks).toHaveLength(1);
          expect(networks[0].ipv4_address).toBe(spec.tunnel!.routingAddress);
          const nginxRouting = containerNamed(
            stack(),
            spec.nginx.containerName,
          )!.networks_advanced.find(
            (network: StackJson) =>
              network.ipv4_address === spec.nginx.routingAddress,
          );
          expect(networks[0].name).toBe(nginxRouting.name);
        });

        test("nginx trusts cloudflared address", () => {
          const configuration: string = containerNamed(
            stack(),
            spec.nginx.containerName,
          )!.upload[0].content;
          expect(configuration).toContain(
            `set_real_ip_from ${spec.tunnel!.routingAddress};`,
          );
        });

        test("cloudflared waits for healthy nginx", () => {
          const nginx = Object.entries(
            resourcesOfType(stack(), "docker_container"),
          ).find(
            ([, container]) => container.name === spec.nginx.containerName,
          )!;
          expect(cloudflared().depends_on).toContain(
            `docker_container.${nginx[0]}`,
          );
          expect(nginx[1].wait).toBe(true);
        });

        test("healthcheck runs tunnel ready", () => {
          expect(cloudflared().healthcheck.test).toEqual([
            "CMD",
            "cloudflared",
            "tunnel",
            "--metrics",
            CLOUDFLARED_READY_ADDRESS,
            "ready",
          ]);
          expect(cloudflared().env).toContain(
            `TUNNEL_METRICS=${CLOUDFLARED_METRICS_ADDRESS}`,
          );
        });

        test("cloudflared restarts on failure", () => {
          expect(["unless-stopped", "always", "on-failure"]).toContain(
            cloudflared().restart,
          );
        });

        test("cloudflared publishes no port", () => {
          expect(cloudflared().ports ?? []).toEqual([]);
        });
      });
    }
  },
);

describe("published stack without hostnames", () => {
  let result: SynthResult;
  beforeAll(() => {
    result = synthConfigText(
      editConfig(DEFAULT_CONFIG, (document) =>
        document.deleteIn([
          "stacks",
          "analytics",
          "services",
          "grafana",
          "publicHost",
        ]),
      ),
    );
  });
  afterAll(() => result?.cleanup());

  test("tunnel answers 404 only", () => {
    expect(
      single(result.stacks.analytics, CONFIGURATION).body.config.ingress,
    ).toEqual([{ service: TUNNEL_CATCH_ALL_SERVICE }]);
  });

  test("stack has no record", () => {
    expect(resourcesOfType(result.stacks.analytics, RECORD)).toEqual({});
  });

  test("stack gets a warning", () => {
    const messages: string[] = result.manifest.stacks.analytics.annotations.map(
      (annotation: { message: string }) => annotation.message,
    );
    expect(
      messages.filter((message) => message.includes("has no public hostname")),
    ).toHaveLength(1);
  });
});
