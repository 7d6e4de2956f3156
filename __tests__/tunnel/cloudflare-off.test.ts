import * as path from "node:path";
import { loadDeployment, parseDeployment } from "../../lib/config/load";
import {
  containerNamed,
  DEFAULT_CONFIG,
  resourcesOfType,
  synthDeployment,
  SynthResult,
} from "../support/synth";
import {
  cloudflareElements,
  definedStacks,
  editConfig,
  SHIPPED_CONFIGS,
} from "./helpers";

describe.each(SHIPPED_CONFIGS.map((file) => [path.basename(file), file]))(
  "%s without Cloudflare",
  (_name, file) => {
    describe.each([
      [
        "globally off",
        editConfig(file, (document) => {
          document.setIn(["cloudflare", "enabled"], false);
          // A stack's own `cloudflare: true` would override the global switch.
          for (const id of definedStacks(document)) {
            document.deleteIn(["stacks", id, "cloudflare"]);
          }
        }),
      ],
      [
        "off on every stack",
        editConfig(file, (document) => {
          for (const id of definedStacks(document)) {
            document.setIn(["stacks", id, "cloudflare"], false);
          }
        }),
      ],
    ])("%s", (_variant, text) => {
      const deployment = parseDeployment(text, file, {});
      let result: SynthResult;
      beforeAll(() => {
        result = synthDeployment(deployment);
      });
      afterAll(() => result?.cleanup());

      test("every enabled stack synthesizes", () => {
        expect(Object.keys(result.stacks).sort()).toEqual(
          deployment.stacks.map((spec) => spec.id).sort(),
        );
      });

      test("no Cloudflare element anywhere", () => {
        for (const [id, stack] of Object.entries(result.stacks)) {
          expect({ id, elements: cloudflareElements(stack) }).toEqual({
            id,
            elements: [],
          });
        }
      });

      test("no cloudflared container", () => {
        for (const stack of Object.values(result.stacks)) {
          const images = Object.values(
            resourcesOfType(stack, "docker_image"),
          ).map((image) => image.name);
          expect(
            images.filter((image: string) => image.includes("cloudflared")),
          ).toEqual([]);
        }
      });

      test("nginx keeps its local port", () => {
        for (const spec of deployment.stacks) {
          const nginx = containerNamed(
            result.stacks[spec.id],
            spec.nginx.containerName,
          )!;
          expect(nginx.ports).toEqual(
            spec.nginx.ports.map((port) =>
              expect.objectContaining({ external: port.external, ip: port.ip }),
            ),
          );
        }
      });

      test("nginx trusts no forwarded address", () => {
        for (const spec of deployment.stacks) {
          const configuration: string = containerNamed(
            result.stacks[spec.id],
            spec.nginx.containerName,
          )!.upload[0].content;
          expect(configuration).not.toContain("set_real_ip_from");
        }
      });
    });
  },
);

describe.each(SHIPPED_CONFIGS.map((file) => [path.basename(file), file]))(
  "%s with one stack off",
  (_name, file) => {
    const published = loadDeployment(file, {}).stacks.filter(
      (spec) => spec.tunnel && spec.id !== "core",
    );

    // A loop instead of describe.each, whose table must not be empty.
    for (const { id } of published) {
      describe(`stack ${id} off`, () => {
        const deployment = parseDeployment(
          editConfig(file, (document) =>
            document.setIn(["stacks", id, "cloudflare"], false),
          ),
          file,
          {},
        );
        let result: SynthResult;
        beforeAll(() => {
          result = synthDeployment(deployment);
        });
        afterAll(() => result?.cleanup());

        test("stack has no Cloudflare element", () => {
          expect(cloudflareElements(result.stacks[id])).toEqual([]);
        });

        test("other stacks keep their tunnels", () => {
          for (const spec of deployment.stacks.filter(
            (stack) => stack.tunnel,
          )) {
            expect(
              Object.keys(
                resourcesOfType(
                  result.stacks[spec.id],
                  "cloudflare_zero_trust_tunnel_cloudflared",
                ),
              ),
            ).toHaveLength(1);
          }
        });

        test("pack leaves out the stack", () => {
          const spec = deployment.stacks.find((stack) => stack.id === id)!;
          const hosts: string[] = Object.values(
            resourcesOfType(result.stacks.core, "cloudflare_certificate_pack"),
          ).flatMap((pack) => pack.hosts);
          expect(hosts).not.toContain(`*.${spec.label}.${deployment.domain}`);
        });
      });
    }
  },
);

describe("core off, other stacks published", () => {
  const text = editConfig(DEFAULT_CONFIG, (document) =>
    document.setIn(["stacks", "core", "cloudflare"], false),
  );
  const deployment = parseDeployment(text, DEFAULT_CONFIG, {});
  let result: SynthResult;
  beforeAll(() => {
    result = synthDeployment(deployment);
  });
  afterAll(() => result?.cleanup());

  test("core has no tunnel", () => {
    expect(
      resourcesOfType(
        result.stacks.core,
        "cloudflare_zero_trust_tunnel_cloudflared",
      ),
    ).toEqual({});
  });

  test("core still orders the pack", () => {
    expect(
      Object.keys(
        resourcesOfType(result.stacks.core, "cloudflare_certificate_pack"),
      ),
    ).toHaveLength(1);
  });

  test("core asks for the zone id only", () => {
    expect(Object.keys(result.stacks.core.variable)).toEqual([
      "cloudflare_zone_id",
    ]);
  });
});
