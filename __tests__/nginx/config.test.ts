import { rmSync } from "node:fs";
import { NGINX_LOCAL_PORT, NGINX_PUBLIC_PORT } from "../../lib/config/defaults";
import {
  NGINX_WEBSOCKET_TIMEOUT_SECONDS,
  renderNginxConfig,
} from "../../lib/rendering/nginx-conf";
import {
  checkNginxConfig,
  createNginxPrefix,
  describeWithNginx,
  freePort,
  localizeNginxConfig,
} from "../support/nginx";
import { shippedStacks, upstreamMembers } from "../support/stack-proxy";

const stacks = shippedStacks();

/** Values of a directive wherever it appears, such as every `proxy_read_timeout`. */
function directiveValues(config: string, name: string): string[] {
  return [
    ...config.matchAll(new RegExp(`^[ \\t]*${name} ([^;{\\n]+);`, "gm")),
  ].map((match) => match[1]);
}

function seconds(value: string): number {
  const match = /^(\d+)s?$/.exec(value);
  if (!match) {
    throw new Error(`"${value}" is not a time in seconds`);
  }
  return Number(match[1]);
}

describeWithNginx("nginx -t on shipped configurations", () => {
  for (const { config, spec, nginxConf } of stacks) {
    test(`${config} ${spec.id} passes nginx -t`, async () => {
      const [publicPort, localPort] = [await freePort(), await freePort()];
      const prefix = createNginxPrefix();
      const upstreamPorts = new Map(
        [...upstreamMembers(spec).values()].map((member) => [
          `${member.address}:${member.port}`,
          member.port,
        ]),
      );
      try {
        const local = localizeNginxConfig(nginxConf, {
          prefix,
          publicPort,
          localPort,
          upstreamPorts,
        });
        const check = checkNginxConfig(local);
        expect(check.output).toContain("test is successful");
      } finally {
        rmSync(prefix, { recursive: true, force: true });
      }
    });
  }
});

for (const { config, spec, nginxConf } of stacks) {
  describe(`${config} ${spec.id} nginx.conf`, () => {
    test("upstream servers are IPv4 addresses", () => {
      const servers = directiveValues(nginxConf, "server").map(
        (value) => value.split(" ")[0],
      );
      expect(
        servers.filter((server) => !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(server)),
      ).toEqual([]);
    });

    test("read timeout is set once", () => {
      expect(directiveValues(nginxConf, "proxy_read_timeout")).toHaveLength(1);
    });

    test("read timeout covers idle sessions", () => {
      expect(
        seconds(directiveValues(nginxConf, "proxy_read_timeout")[0]),
      ).toBeGreaterThanOrEqual(3600);
    });

    test("send timeout covers idle sessions", () => {
      expect(
        seconds(directiveValues(nginxConf, "proxy_send_timeout")[0]),
      ).toBeGreaterThanOrEqual(3600);
    });

    // A proxy_set_header inside a server or location would drop every inherited one, Upgrade included.
    test("proxy headers set only in http", () => {
      const nested = [...nginxConf.matchAll(/^( *)proxy_set_header /gm)].filter(
        (match) => match[1].length !== 2,
      );
      expect(nested).toEqual([]);
    });

    test("upstream uses HTTP/1.1", () => {
      expect(directiveValues(nginxConf, "proxy_http_version")).toEqual(["1.1"]);
    });

    test("underscore headers kept", () => {
      expect(directiveValues(nginxConf, "underscores_in_headers")).toEqual([
        "on",
      ]);
    });

    test("every upstream keeps connections", () => {
      const upstreams = nginxConf.match(/^ {2}upstream /gm) ?? [];
      expect(directiveValues(nginxConf, "keepalive")).toHaveLength(
        upstreams.length,
      );
    });

    test("every hostname has a server", () => {
      const names = directiveValues(nginxConf, "server_name");
      const hostnames = spec.routes.flatMap((route) =>
        route.hostname ? [route.hostname] : [],
      );
      expect(names).toEqual(expect.arrayContaining(hostnames));
    });

    test("listens on public and local ports", () => {
      const ports = new Set(
        directiveValues(nginxConf, "listen").map((value) =>
          Number(value.split(" ")[0]),
        ),
      );
      expect([...ports].sort()).toEqual(
        [NGINX_PUBLIC_PORT, NGINX_LOCAL_PORT].sort(),
      );
    });
  });
}

describe("renderNginxConfig", () => {
  const base = { stack: "test", publicPort: 80, localPort: 8080 };
  const server = { address: "10.213.9.10", port: 8088 };

  test("defaults to one-hour timeouts", () => {
    const text = renderNginxConfig({
      ...base,
      routes: [{ key: "a", hostname: "a.test.example.com", servers: [server] }],
    });
    expect(directiveValues(text, "proxy_read_timeout")).toEqual([
      `${NGINX_WEBSOCKET_TIMEOUT_SECONDS}s`,
    ]);
  });

  test("rejects upstream host names", () => {
    const render = () =>
      renderNginxConfig({
        ...base,
        routes: [
          {
            key: "a",
            servers: [{ address: "proveit-test-gateway", port: 8088 }],
          },
        ],
      });
    expect(render).toThrow(
      /upstream address "proveit-test-gateway", which is not an IPv4 address/,
    );
  });

  test("rejects routes without servers", () => {
    expect(() =>
      renderNginxConfig({ ...base, routes: [{ key: "a", servers: [] }] }),
    ).toThrow(/has no upstream server/);
  });

  test("rejects non-positive timeout", () => {
    const render = () =>
      renderNginxConfig({ ...base, routes: [], websocketTimeoutSeconds: 0 });
    expect(render).toThrow(/websocketTimeoutSeconds of stack test is 0/);
  });

  test("sticky pool hashes client address", () => {
    const text = renderNginxConfig({
      ...base,
      routes: [
        {
          key: "a",
          sticky: true,
          servers: [server, { ...server, address: "10.213.9.11" }],
        },
      ],
    });
    expect(directiveValues(text, "hash")).toEqual(["$remote_addr consistent"]);
  });

  test("without tunnel forwards no CF-Connecting-IP", () => {
    const text = renderNginxConfig({ ...base, routes: [] });
    expect(directiveValues(text, "proxy_set_header")).toContain(
      'CF-Connecting-IP ""',
    );
  });

  test("without tunnel trusts no address", () => {
    const text = renderNginxConfig({ ...base, routes: [] });
    expect(directiveValues(text, "set_real_ip_from")).toEqual([]);
  });

  test("weights written beside servers", () => {
    const text = renderNginxConfig({
      ...base,
      routes: [{ key: "a", sticky: true, servers: [{ ...server, weight: 3 }] }],
    });
    expect(directiveValues(text, "server")[0]).toMatch(
      /^10\.213\.9\.10:8088 weight=3 /,
    );
  });
});
