import type { RouteSpec } from "../../lib/config/model";
import {
  NGINX_HEALTH_PATH,
  NGINX_STATUS_PATH,
} from "../../lib/rendering/nginx-conf";
import { httpGet } from "../support/http-client";
import { describeWithNginx } from "../support/nginx";
import {
  StackProxy,
  shippedStacks,
  upstreamMembers,
} from "../support/stack-proxy";
import type { StubResponse } from "../support/upstream-stub";

const stacks = shippedStacks();

/** Returns whether the local port redirects the route's path to the application's own port. */
function isRedirected(route: RouteSpec): boolean {
  return route.localPath !== "/" && route.pathPrefix === "redirect";
}

function memberNames(route: RouteSpec): string[] {
  return route.members.map((member) => member.containerName);
}

interface EntryPoint {
  readonly name: string;
  readonly request: {
    readonly public: boolean;
    readonly host?: string;
    readonly path: string;
  };
}

/**
 * Lists each way into the routes that reaches an upstream: a public hostname on
 * the public port (at the prefix, for an application that keeps it), a path on
 * the local port (not for paths that redirect to the application's own port).
 */
function entryPoints(routes: readonly RouteSpec[]): EntryPoint[] {
  return routes.flatMap((route) => {
    const hostPath =
      route.pathPrefix === "keep" && route.localPath ? route.localPath : "/";
    return [
      ...(route.hostname
        ? [
            {
              name: `host ${route.hostname}`,
              request: { public: true, host: route.hostname, path: hostPath },
            },
          ]
        : []),
      ...(route.localPath && !isRedirected(route)
        ? [
            {
              name: `path ${route.localPath}`,
              request: { public: false, path: route.localPath },
            },
          ]
        : []),
    ];
  });
}

describeWithNginx("nginx routing", () => {
  for (const { config, spec, nginxConf } of stacks) {
    describe(`${config} ${spec.id}`, () => {
      let proxy: StackProxy;

      beforeAll(async () => {
        proxy = await StackProxy.start(spec, nginxConf);
      });

      afterAll(async () => {
        await proxy?.stop();
      });

      for (const route of spec.routes.filter(
        (candidate) => candidate.hostname,
      )) {
        test(`host ${route.hostname} reaches its upstream`, async () => {
          const response = await httpGet({
            port: proxy.publicPort,
            host: route.hostname,
            path: "/probe?q=1",
          });
          const body = JSON.parse(response.body) as StubResponse;
          expect(memberNames(route)).toContain(body.name);
        });

        test(`host ${route.hostname} keeps the path`, async () => {
          const response = await httpGet({
            port: proxy.publicPort,
            host: route.hostname,
            path: "/probe?q=1",
          });
          expect((JSON.parse(response.body) as StubResponse).url).toBe(
            "/probe?q=1",
          );
        });
      }

      test("unknown host gets 404", async () => {
        const response = await httpGet({
          port: proxy.publicPort,
          host: "unknown.example.net",
        });
        expect(response.status).toBe(404);
      });

      test("unknown host reaches no upstream", async () => {
        for (const stub of proxy.stubs.values()) {
          stub.reset();
        }
        await httpGet({
          port: proxy.publicPort,
          host: "unknown.example.net",
          path: "/probe",
        });
        const received = [...proxy.stubs.values()].reduce(
          (sum, stub) => sum + stub.requests.length,
          0,
        );
        expect(received).toBe(0);
      });

      for (const route of spec.routes.filter(
        (candidate) => candidate.localPath && isRedirected(candidate),
      )) {
        test(`path ${route.localPath} redirects to its port`, async () => {
          const response = await httpGet({
            port: proxy.localPort,
            host: "localhost",
            path: `${route.localPath}web/home?x=1`,
          });
          expect([response.status, response.headers.location]).toEqual([
            302,
            `http://localhost:${route.redirectPort}/web/home?x=1`,
          ]);
        });

        test(`path ${route.localPath} without slash redirects`, async () => {
          const response = await httpGet({
            port: proxy.localPort,
            host: "localhost",
            path: route.localPath!.slice(0, -1),
          });
          expect([response.status, response.headers.location]).toEqual([
            302,
            `http://localhost:${route.redirectPort}/`,
          ]);
        });
      }

      for (const route of spec.routes.filter(
        (candidate) => candidate.localPath && !isRedirected(candidate),
      )) {
        const keepsPrefix =
          route.localPath !== "/" && route.pathPrefix === "keep";

        test(`path ${route.localPath} reaches its upstream`, async () => {
          const response = await httpGet({
            port: proxy.localPort,
            path: `${route.localPath}probe?q=1`,
          });
          const body = JSON.parse(response.body) as StubResponse;
          expect(memberNames(route)).toContain(body.name);
        });

        test(`path ${route.localPath} upstream path`, async () => {
          const response = await httpGet({
            port: proxy.localPort,
            path: `${route.localPath}probe?q=1`,
          });
          const expected = keepsPrefix
            ? `${route.localPath}probe?q=1`
            : "/probe?q=1";
          expect((JSON.parse(response.body) as StubResponse).url).toBe(
            expected,
          );
        });

        if (keepsPrefix && route.hostname) {
          test(`host ${route.hostname} root redirects to prefix`, async () => {
            const response = await httpGet({
              port: proxy.publicPort,
              host: route.hostname,
              path: "/",
            });
            expect([response.status, response.headers.location]).toEqual([
              302,
              route.localPath,
            ]);
          });
        }

        if (route.localPath !== "/") {
          test(`path ${route.localPath} without slash redirects`, async () => {
            const response = await httpGet({
              port: proxy.localPort,
              path: route.localPath!.slice(0, -1),
            });
            expect([response.status, response.headers.location]).toEqual([
              301,
              route.localPath,
            ]);
          });
        }
      }

      test("unrouted local path falls back", async () => {
        const fallback = spec.routes.find((route) => route.localPath === "/");
        const response = await httpGet({
          port: proxy.localPort,
          path: "/no-such-route/",
        });
        if (fallback) {
          expect(memberNames(fallback)).toContain(
            (JSON.parse(response.body) as StubResponse).name,
          );
        } else {
          expect(response.status).toBe(404);
        }
      });

      test("health endpoint on local port", async () => {
        const response = await httpGet({
          port: proxy.localPort,
          path: NGINX_HEALTH_PATH,
        });
        expect([response.status, response.body]).toEqual([200, "ok\n"]);
      });

      test("health endpoint on public port", async () => {
        const response = await httpGet({
          port: proxy.publicPort,
          host: "unknown.example.net",
          path: NGINX_HEALTH_PATH,
        });
        expect(response.status).toBe(200);
      });

      test("status endpoint answers loopback", async () => {
        const response = await httpGet({
          port: proxy.localPort,
          path: NGINX_STATUS_PATH,
        });
        expect(response.body).toMatch(/^Active connections: \d+/);
      });

      test("nginx logs no errors", () => {
        expect(proxy.nginx.errorOutput).not.toMatch(
          /\[(emerg|alert|crit|error)\]/,
        );
      });
    });

    for (const missing of upstreamMembers(spec).keys()) {
      describe(`${config} ${spec.id} without ${missing}`, () => {
        let proxy: StackProxy;
        const routesOfMissing = spec.routes.filter((route) =>
          memberNames(route).every((name) => name === missing),
        );
        const otherRoutes = spec.routes.filter(
          (route) => !memberNames(route).includes(missing),
        );

        beforeAll(async () => {
          proxy = await StackProxy.start(spec, nginxConf, {
            missing: [missing],
          });
        });

        afterAll(async () => {
          await proxy?.stop();
        });

        test("nginx starts healthy", async () => {
          const response = await httpGet({
            port: proxy.localPort,
            path: NGINX_HEALTH_PATH,
          });
          expect(response.status).toBe(200);
        });

        for (const { name, request } of entryPoints(routesOfMissing)) {
          test(`${name} answers 502`, async () => {
            const response = await httpGet({
              ...request,
              port: request.public ? proxy.publicPort : proxy.localPort,
            });
            expect([502, 503]).toContain(response.status);
          });
        }

        for (const { name, request } of entryPoints(otherRoutes)) {
          test(`${name} still answers 200`, async () => {
            const response = await httpGet({
              ...request,
              port: request.public ? proxy.publicPort : proxy.localPort,
            });
            expect(response.status).toBe(200);
          });
        }
      });
    }
  }

  // Field case: a proxy that names its upstream containers fails at start with
  // "host not found in upstream" while one of them does not exist yet.
  describe("every upstream container absent", () => {
    const { spec, nginxConf } = stacks.reduce((most, stack) =>
      stack.spec.routes.length > most.spec.routes.length ? stack : most,
    );
    let proxy: StackProxy;

    beforeAll(async () => {
      proxy = await StackProxy.start(spec, nginxConf, {
        missing: [...upstreamMembers(spec).keys()],
      });
    });

    afterAll(async () => {
      await proxy?.stop();
    });

    test("nginx starts and is healthy", async () => {
      const response = await httpGet({
        port: proxy.localPort,
        path: NGINX_HEALTH_PATH,
      });
      expect(response.status).toBe(200);
    });

    test("no host-not-found error", () => {
      expect(proxy.nginx.errorOutput).not.toContain("host not found");
    });

    test("unknown host still 404", async () => {
      const response = await httpGet({
        port: proxy.publicPort,
        host: "unknown.example.net",
      });
      expect(response.status).toBe(404);
    });

    test("each host answers 502", async () => {
      const statuses = new Set<number>();
      for (const route of spec.routes.filter(
        (candidate) => candidate.hostname,
      )) {
        statuses.add(
          (await httpGet({ port: proxy.publicPort, host: route.hostname }))
            .status,
        );
      }
      expect([...statuses]).toEqual([502]);
    });
  });
});
