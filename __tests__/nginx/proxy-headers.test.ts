import * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import { httpGet } from "../support/http-client";
import { describeWithNginx } from "../support/nginx";
import { StackProxy, shippedStacks } from "../support/stack-proxy";
import type { StubResponse } from "../support/upstream-stub";

/** Address from the documentation range (RFC 5737) that stands for a visitor behind Cloudflare. */
const VISITOR = "203.0.113.50";

/** Sequential requests in the keepalive test. */
const SEQUENTIAL_REQUESTS = 40;

/** Requests in flight at once in the concurrency test, more than a keepalive setting of 32 would keep. */
const CONCURRENT_REQUESTS = 50;

describeWithNginx("nginx proxy headers", () => {
  for (const { config, spec, nginxConf } of shippedStacks()) {
    const route = spec.routes.find((candidate) => candidate.hostname);
    if (!route?.hostname || !spec.tunnel) {
      continue;
    }
    const hostname = route.hostname;

    describe(`${config} ${spec.id}`, () => {
      let proxy: StackProxy;

      beforeAll(async () => {
        proxy = await StackProxy.start(spec, nginxConf);
      });

      afterAll(async () => {
        await proxy?.stop();
      });

      describe("request from cloudflared", () => {
        let headers: IncomingHttpHeaders;

        beforeAll(async () => {
          const response = await httpGet({
            port: proxy.publicPort,
            host: hostname,
            headers: { "cf-connecting-ip": VISITOR },
            localAddress: proxy.tunnelAddress,
          });
          headers = (JSON.parse(response.body) as StubResponse).headers;
        });

        test("Host is the public hostname", () => {
          expect(headers.host).toBe(hostname);
        });

        test("X-Forwarded-Host is the hostname", () => {
          expect(headers["x-forwarded-host"]).toBe(hostname);
        });

        test("X-Forwarded-Proto is https", () => {
          expect(headers["x-forwarded-proto"]).toBe("https");
        });

        test("X-Forwarded-For is the visitor", () => {
          expect(headers["x-forwarded-for"]).toBe(VISITOR);
        });

        test("X-Real-IP is the visitor", () => {
          expect(headers["x-real-ip"]).toBe(VISITOR);
        });

        test("CF-Connecting-IP is passed on", () => {
          expect(headers["cf-connecting-ip"]).toBe(VISITOR);
        });
      });

      describe("request from elsewhere with forged headers", () => {
        let headers: IncomingHttpHeaders;

        beforeAll(async () => {
          const response = await httpGet({
            port: proxy.publicPort,
            host: hostname,
            headers: {
              "cf-connecting-ip": VISITOR,
              "x-forwarded-for": VISITOR,
              "x-forwarded-proto": "https",
            },
            localAddress: "127.0.0.1",
          });
          headers = (JSON.parse(response.body) as StubResponse).headers;
        });

        test("X-Forwarded-For is socket address", () => {
          expect(headers["x-forwarded-for"]).toBe("127.0.0.1");
        });

        test("X-Forwarded-Proto is http", () => {
          expect(headers["x-forwarded-proto"]).toBe("http");
        });

        test("CF-Connecting-IP is removed", () => {
          expect(headers["cf-connecting-ip"]).toBeUndefined();
        });
      });

      describe("plain request on local port", () => {
        let headers: IncomingHttpHeaders;

        beforeAll(async () => {
          const response = await httpGet({
            port: proxy.localPort,
            host: `localhost:${spec.nginx.ports[0]?.external ?? 8080}`,
            headers: { x_ignition_client: "designer" },
          });
          headers = (JSON.parse(response.body) as StubResponse).headers;
        });

        test("Host keeps the port", () => {
          expect(headers.host).toBe(
            `localhost:${spec.nginx.ports[0]?.external ?? 8080}`,
          );
        });

        test("X-Forwarded-Host keeps the port", () => {
          expect(headers["x-forwarded-host"]).toBe(
            `localhost:${spec.nginx.ports[0]?.external ?? 8080}`,
          );
        });

        test("underscore header reaches upstream", () => {
          expect(headers.x_ignition_client).toBe("designer");
        });

        test("no Connection header upstream", () => {
          expect(headers.connection).toBeUndefined();
        });

        test("no Upgrade header upstream", () => {
          expect(headers.upgrade).toBeUndefined();
        });
      });

      test("upstream connections are reused", async () => {
        for (const stub of proxy.stubs.values()) {
          stub.reset();
        }
        // One client connection keeps every request on one worker, whose idle upstream connections are its own.
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const statuses = new Set<number>();
        try {
          for (let index = 0; index < SEQUENTIAL_REQUESTS; index += 1) {
            statuses.add(
              (
                await httpGet({
                  port: proxy.publicPort,
                  host: hostname,
                  path: `/request/${index}`,
                  agent,
                })
              ).status,
            );
          }
        } finally {
          agent.destroy();
        }
        const connections = [...proxy.stubs.values()].reduce(
          (sum, stub) => sum + stub.connections,
          0,
        );
        expect([...statuses]).toEqual([200]);
        expect(connections).toBeLessThanOrEqual(1);
      });
    });
  }

  describe("upstream keepalive under concurrency", () => {
    const { spec, nginxConf } = shippedStacks()[0];
    const hostname = spec.routes.find(
      (candidate) => candidate.hostname,
    )?.hostname;
    let proxy: StackProxy;

    beforeAll(async () => {
      // One worker, so that every client connection shares one pool of idle upstream connections.
      proxy = await StackProxy.start(spec, nginxConf, { workerProcesses: 1 });
    });

    afterAll(async () => {
      await proxy?.stop();
    });

    test("concurrent requests keep their connections", async () => {
      const agent = new http.Agent({
        keepAlive: true,
        maxSockets: CONCURRENT_REQUESTS,
      });
      const statuses = new Set<number>();
      try {
        for (let wave = 0; wave < 20; wave += 1) {
          const responses = await Promise.all(
            Array.from({ length: CONCURRENT_REQUESTS }, (_, index) =>
              httpGet({
                port: proxy.publicPort,
                host: hostname,
                path: `/wave/${wave}/${index}`,
                agent,
              }),
            ),
          );
          responses.forEach((response) => statuses.add(response.status));
        }
      } finally {
        agent.destroy();
      }
      const connections = [...proxy.stubs.values()].reduce(
        (sum, stub) => sum + stub.connections,
        0,
      );
      expect([...statuses]).toEqual([200]);
      // One upstream connection per request in flight is enough. A keepalive cap below that closes some after each wave.
      expect(connections).toBeLessThanOrEqual(CONCURRENT_REQUESTS);
    });
  });
});
