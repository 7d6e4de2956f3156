import * as path from "node:path";
import { Testing, TerraformStack } from "cdktf";
import {
  certificateCovers,
  MAX_CERTIFICATE_HOSTS,
} from "../../lib/config/certificates";
import { ConfigError, formatPath } from "../../lib/config/errors";
import { loadDeployment, parseDeployment } from "../../lib/config/load";
import type { Deployment } from "../../lib/config/model";
import { EdgeCertificatePack } from "../../lib/constructs/edge-certificate-pack";
import {
  DEFAULT_CONFIG,
  resourcesOfType,
  synthConfigText,
  synthDeployment,
  SynthResult,
} from "../support/synth";
import { editConfig, publicHostnames, SHIPPED_CONFIGS } from "./helpers";

const PACK = "cloudflare_certificate_pack";

/** Returns the configuration error of a text, and fails when the text is valid. */
function configError(text: string): ConfigError {
  try {
    parseDeployment(text, "test.yaml", {});
  } catch (error) {
    if (error instanceof ConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error("expected a ConfigError");
}

function withCertificateHosts(hosts: string[]): string {
  return editConfig(DEFAULT_CONFIG, (document) =>
    document.setIn(["cloudflare", "certificateHosts"], hosts),
  );
}

describe("certificateCovers", () => {
  test.each([
    ["*.mes.example.com", "ignition.mes.example.com", true],
    ["*.mes.example.com", "mes.example.com", false],
    ["*.mes.example.com", "a.b.mes.example.com", false],
    ["*.mes.example.com", "ignition.scada.example.com", false],
    ["*.mes.example.com", "ignition.xmes.example.com", false],
    ["*.example.com", "ignition.mes.example.com", false],
    ["*.example.com", "ignition-mes.example.com", true],
    ["example.com", "example.com", true],
    ["ignition.mes.example.com", "ignition.mes.example.com", true],
    ["ignition.mes.example.com", "frontend.mes.example.com", false],
  ])("%s covers %s: %s", (host, hostname, expected) => {
    expect(certificateCovers(host, hostname)).toBe(expected);
  });
});

describe.each(SHIPPED_CONFIGS.map((file) => [path.basename(file), file]))(
  "certificates of %s",
  (_name, file) => {
    const deployment = loadDeployment(file, {});
    const published = deployment.stacks.filter((spec) => spec.tunnel);
    const nested = deployment.hostnameStyle === "nested";
    let result: SynthResult;
    beforeAll(() => {
      result = synthDeployment(deployment);
    });
    afterAll(() => result?.cleanup());

    test("core orders a pack when nested", () => {
      const packs = Object.values(resourcesOfType(result.stacks.core, PACK));
      expect(packs).toHaveLength(nested && published.length > 0 ? 1 : 0);
    });

    test("other stacks order no pack", () => {
      for (const spec of deployment.stacks.filter(
        (stack) => stack.id !== "core",
      )) {
        expect(resourcesOfType(result.stacks[spec.id], PACK)).toEqual({});
      }
    });

    test("certificate hosts cover every hostname", () => {
      const packHosts: string[] = Object.values(
        resourcesOfType(result.stacks.core, PACK),
      ).flatMap((pack) => pack.hosts);
      const certificateHosts = [
        deployment.domain,
        `*.${deployment.domain}`,
        ...packHosts,
      ];
      for (const hostname of published.flatMap(publicHostnames)) {
        expect(
          certificateHosts.filter((host) => certificateCovers(host, hostname)),
        ).not.toEqual([]);
      }
    });

    test("pack lists apex and stack wildcards", () => {
      const pack = Object.values(resourcesOfType(result.stacks.core, PACK))[0];
      if (pack) {
        expect(pack.type).toBe("advanced");
        expect(pack.hosts[0]).toBe(deployment.domain);
        expect(pack.hosts.length).toBeLessThanOrEqual(MAX_CERTIFICATE_HOSTS);
        for (const spec of published) {
          expect(pack.hosts).toContain(`*.${spec.label}.${deployment.domain}`);
        }
      }
    });

    test("pack uses sensitive zone id", () => {
      const pack = Object.values(resourcesOfType(result.stacks.core, PACK))[0];
      if (pack) {
        expect(pack.zone_id).toBe("${var.cloudflare_zone_id}");
        expect(result.stacks.core.variable.cloudflare_zone_id.sensitive).toBe(
          true,
        );
      }
    });
  },
);

describe("default configuration pack", () => {
  let result: SynthResult;
  beforeAll(() => {
    result = synthDeployment(loadDeployment(DEFAULT_CONFIG, {}));
  });
  afterAll(() => result?.cleanup());

  test("pack hosts are exact", () => {
    const pack = Object.values(resourcesOfType(result.stacks.core, PACK))[0];
    expect(pack.hosts).toEqual([
      "example.com",
      "*.core.example.com",
      "*.mes.example.com",
      "*.scada.example.com",
      "*.analytics.example.com",
    ]);
  });

  test("pack is replaced before destroy", () => {
    const pack = Object.values(resourcesOfType(result.stacks.core, PACK))[0];
    expect(pack.lifecycle).toEqual({ create_before_destroy: true });
  });

  test("pack validates through DNS", () => {
    const pack = Object.values(resourcesOfType(result.stacks.core, PACK))[0];
    expect(pack.validation_method).toBe("txt");
  });
});

describe("certificate validation", () => {
  test("multi-label wildcard is rejected", () => {
    const error = configError(
      withCertificateHosts(["example.com", "*.*.example.com"]),
    );
    const issue = error.issues.find(
      (candidate) => candidate.value === "*.*.example.com",
    );
    expect(issue).toBeDefined();
    expect(issue!.message).toContain("*.*.example.com");
    expect(formatPath(issue!.path)).toBe("cloudflare.certificateHosts[1]");
  });

  test("multi-label wildcard named in message", () => {
    const error = configError(
      withCertificateHosts(["example.com", "*.*.example.com"]),
    );
    expect(error.message).toContain("*.*.example.com");
  });

  test("uncovered hostname is rejected", () => {
    const error = configError(
      withCertificateHosts([
        "example.com",
        "*.core.example.com",
        "*.scada.example.com",
        "*.analytics.example.com",
      ]),
    );
    const hostnames = error.issues.map((issue) => issue.value);
    expect(hostnames).toContain("frontend.mes.example.com");
    expect(hostnames).toContain("ignition-frontend-01.mes.example.com");
    expect(hostnames).toContain("ignition-backend.mes.example.com");
  });

  test("uncovered hostname issue names field", () => {
    const error = configError(
      withCertificateHosts([
        "example.com",
        "*.core.example.com",
        "*.scada.example.com",
        "*.analytics.example.com",
      ]),
    );
    const issue = error.issues.find(
      (candidate) => candidate.value === "ignition-backend.mes.example.com",
    )!;
    expect(formatPath(issue.path)).toBe(
      "stacks.mes.gateways.ignition-backend.publicHost",
    );
    expect(issue.message).toContain("ignition-backend.mes.example.com");
    expect(issue.fix).toContain("*.mes.example.com");
  });

  test("empty list rejects nested hostnames", () => {
    const error = configError(withCertificateHosts([]));
    expect(error.issues.map((issue) => issue.value)).toContain(
      "ignition.core.example.com",
    );
  });

  test("missing apex is rejected", () => {
    const error = configError(
      withCertificateHosts([
        "*.core.example.com",
        "*.mes.example.com",
        "*.scada.example.com",
        "*.analytics.example.com",
      ]),
    );
    expect(error.message).toContain("must contain the zone apex example.com");
  });

  test("host outside zone is rejected", () => {
    const error = configError(
      withCertificateHosts([
        "example.com",
        "*.core.example.com",
        "*.mes.example.com",
        "*.scada.example.com",
        "*.analytics.example.com",
        "other.org",
      ]),
    );
    expect(
      error.issues.find((issue) => issue.value === "other.org")?.message,
    ).toContain("outside the zone example.com");
  });

  test("inner wildcard is rejected", () => {
    const error = configError(
      withCertificateHosts(["example.com", "ignition.*.example.com"]),
    );
    expect(
      error.issues.find((issue) => issue.value === "ignition.*.example.com")
        ?.message,
    ).toContain("not the whole leftmost label");
  });

  test("duplicate host is rejected", () => {
    const error = configError(
      withCertificateHosts([
        "example.com",
        "*.mes.example.com",
        "*.mes.example.com",
      ]),
    );
    expect(
      formatPath(
        error.issues.find((issue) => issue.message.includes("already listed"))!
          .path,
      ),
    ).toBe("cloudflare.certificateHosts[2]");
  });

  test("more than 50 hosts are rejected", () => {
    const hosts = [
      "example.com",
      ...Array.from({ length: 50 }, (_, index) => `host-${index}.example.com`),
    ];
    const error = configError(withCertificateHosts(hosts));
    expect(error.message).toContain(
      `may list at most ${MAX_CERTIFICATE_HOSTS} hosts, but 51 are listed`,
    );
  });

  test("explicit hosts become the pack", () => {
    const hosts = [
      "example.com",
      "*.core.example.com",
      "*.mes.example.com",
      "*.scada.example.com",
      "*.analytics.example.com",
      "www.example.com",
    ];
    const deployment: Deployment = parseDeployment(
      withCertificateHosts(hosts),
      "test.yaml",
      {},
    );
    expect(deployment.certificatePack?.hosts).toEqual(hosts);
  });

  test("local-only stack needs no certificate", () => {
    const text = editConfig(DEFAULT_CONFIG, (document) => {
      document.setIn(
        ["cloudflare", "certificateHosts"],
        [
          "example.com",
          "*.core.example.com",
          "*.scada.example.com",
          "*.analytics.example.com",
        ],
      );
      document.setIn(["stacks", "mes", "cloudflare"], false);
    });
    expect(
      parseDeployment(text, "test.yaml", {}).certificatePack?.hosts,
    ).toHaveLength(4);
  });
});

describe("flat hostnames", () => {
  let result: SynthResult;
  beforeAll(() => {
    result = synthConfigText(
      editConfig(DEFAULT_CONFIG, (document) =>
        document.set("hostnames", "flat"),
      ),
    );
  });
  afterAll(() => result?.cleanup());

  test("no stack orders a pack", () => {
    for (const stack of Object.values(result.stacks)) {
      expect(resourcesOfType(stack, PACK)).toEqual({});
    }
  });

  test("hostnames are one level deep", () => {
    for (const spec of result.deployment.stacks) {
      for (const hostname of publicHostnames(spec)) {
        expect(hostname).toMatch(/^[a-z0-9-]+\.example\.com$/);
      }
    }
  });

  test("core says no pack is needed", () => {
    const messages: string[] = result.manifest.stacks.core.annotations.map(
      (annotation: { message: string }) => annotation.message,
    );
    expect(
      messages.filter((message) =>
        message.startsWith("No Advanced Certificate Manager pack is ordered"),
      ),
    ).toHaveLength(1);
  });

  test("tunnels still route every hostname", () => {
    const mes = result.stacks.mes;
    const ingress = Object.values(
      resourcesOfType(mes, "cloudflare_zero_trust_tunnel_cloudflared_config"),
    )[0].config.ingress;
    expect(ingress.map((rule: { hostname?: string }) => rule.hostname)).toEqual(
      [
        "frontend-mes.example.com",
        "ignition-frontend-01-mes.example.com",
        "ignition-backend-mes.example.com",
        undefined,
      ],
    );
  });
});

describe("EdgeCertificatePack", () => {
  test("rejects an empty host list", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    expect(
      () =>
        new EdgeCertificatePack(stack, "pack", { zoneId: "zone", hosts: [] }),
    ).toThrow("1 to 50 hosts, but 0 were given");
  });

  test("rejects 51 hosts", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    const hosts = Array.from(
      { length: 51 },
      (_, index) => `host-${index}.example.com`,
    );
    expect(
      () => new EdgeCertificatePack(stack, "pack", { zoneId: "zone", hosts }),
    ).toThrow("but 51 were given");
  });
});
