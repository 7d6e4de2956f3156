import * as path from "node:path";
import { DEFAULT_IMAGES, NGINX_LOCAL_PORT } from "../../lib/config/defaults";
import type { StackSpec } from "../../lib/config/model";
import { NGINX_HEALTH_PATH } from "../../lib/rendering/nginx-conf";
import {
  NGINX_CONF_FILE,
  nginxConfOf,
  nginxContainerOf,
  shippedConfigFiles,
} from "../support/stack-proxy";
import {
  StackJson,
  containerNamed,
  resourcesOfType,
  synthConfigFile,
} from "../support/synth";

interface SynthesizedStack {
  readonly spec: StackSpec;
  readonly json: StackJson;
}

/** Reference to the name of the stack's own docker_network with that name. */
function networkReference(json: StackJson, name: string): string | undefined {
  const entry = Object.entries(resourcesOfType(json, "docker_network")).find(
    ([, network]) => network.name === name,
  );
  return entry ? `\${docker_network.${entry[0]}.name}` : undefined;
}

for (const file of shippedConfigFiles()) {
  const result = synthConfigFile(file);
  const stacks: SynthesizedStack[] = result.deployment.stacks.map((spec) => ({
    spec,
    json: result.stacks[spec.id],
  }));
  result.cleanup();

  for (const { spec, json } of stacks) {
    describe(`${path.basename(file)} ${spec.id} nginx container`, () => {
      const container = nginxContainerOf(json);

      test("is named as configured", () => {
        expect(container.name).toBe(spec.nginx.containerName);
      });

      test("runs the pinned image", () => {
        const images = Object.values(resourcesOfType(json, "docker_image")).map(
          (image) => image.name,
        );
        expect(images).toContain(DEFAULT_IMAGES.nginx);
      });

      test("healthcheck requests health endpoint", () => {
        expect(container.healthcheck.test).toEqual([
          "CMD",
          "wget",
          "-q",
          "-O",
          "/dev/null",
          `http://127.0.0.1:${NGINX_LOCAL_PORT}${NGINX_HEALTH_PATH}`,
        ]);
      });

      test("healthcheck has bounded timing", () => {
        expect(container.healthcheck).toMatchObject({
          interval: "10s",
          timeout: "3s",
          retries: 3,
          start_period: "5s",
        });
      });

      test("restarts unless stopped", () => {
        expect(container.restart).toBe("unless-stopped");
      });

      test("waits until healthy", () => {
        expect(container.wait).toBe(true);
      });

      test("uploads nginx.conf", () => {
        const upload = container.upload.find(
          (entry: StackJson) => entry.file === NGINX_CONF_FILE,
        );
        expect(upload?.content).toMatch(/^http \{$/m);
      });

      test("mounts no host path", () => {
        const volumes: StackJson[] = container.volumes ?? [];
        expect(
          volumes.filter((volume) => volume.host_path !== undefined),
        ).toEqual([]);
      });

      test("has no bind mounts", () => {
        const mounts: StackJson[] = container.mounts ?? [];
        expect(mounts.filter((mount) => mount.type === "bind")).toEqual([]);
      });

      test("publishes only local port", () => {
        expect(container.ports).toEqual([
          {
            internal: NGINX_LOCAL_PORT,
            external: spec.nginx.ports[0].external,
            ip: "127.0.0.1",
            protocol: "tcp",
          },
        ]);
      });

      test("joins two networks", () => {
        expect(container.networks_advanced).toHaveLength(2);
      });

      test("stack network has fixed address", () => {
        expect(container.networks_advanced[0]).toMatchObject({
          name: networkReference(json, spec.network.name),
          ipv4_address: spec.nginx.address,
        });
      });

      test("routing network has fixed address", () => {
        expect(container.networks_advanced[1].ipv4_address).toBe(
          spec.nginx.routingAddress,
        );
      });

      test("routing network is core's", () => {
        const name: string = container.networks_advanced[1].name;
        const expected =
          spec.id === "core"
            ? networkReference(json, result.deployment.routingNetwork.name)
            : expect.stringMatching(/routing-network/);
        expect(name).toEqual(expected);
      });

      if (spec.tunnel) {
        const tunnel = spec.tunnel;
        test("trusts only the stack's cloudflared", () => {
          const cloudflared = containerNamed(json, tunnel.containerName);
          const address: string =
            cloudflared?.networks_advanced[0].ipv4_address;
          const trusted = [
            ...nginxConfOf(json).matchAll(/set_real_ip_from (\S+);/g),
          ].map((match) => match[1]);
          expect(trusted).toEqual([address]);
        });
      }

      for (const member of new Map(
        spec.routes.flatMap((route) =>
          route.members.map((m) => [m.containerName, m] as const),
        ),
      ).values()) {
        test(`upstream ${member.containerName} has proxied address`, () => {
          const upstream = containerNamed(json, member.containerName);
          const addresses = (upstream?.networks_advanced ?? []).map(
            (network: StackJson) => network.ipv4_address,
          );
          expect(addresses).toContain(member.address);
        });
      }
    });
  }
}
