import * as http from "node:http";
import type WebSocket from "ws";
import { NGINX_LOCAL_PORT, NGINX_PUBLIC_PORT } from "../../lib/config/defaults";
import type { StackSpec } from "../../lib/config/model";
import { renderNginxConfig } from "../../lib/rendering/nginx-conf";
import { closed, echo, openWebSocket } from "../support/http-client";
import { describeWithNginx } from "../support/nginx";
import {
  ShippedStack,
  StackProxy,
  shippedStacks,
} from "../support/stack-proxy";
import { PERSPECTIVE_WEBSOCKET_PATH } from "../support/upstream-stub";

const stacks = shippedStacks();

/** nginx's default proxy_read_timeout, after which an idle WebSocket is closed. */
const NGINX_DEFAULT_READ_TIMEOUT_SECONDS = 60;

/** Silence that a WebSocket must survive with the short timeout, half of it to leave room for a slow machine. */
const IDLE_MILLISECONDS = 2_000;

/** Short timeout that the idle WebSocket must survive. */
const SURVIVED_TIMEOUT_SECONDS = 4;

/** Shorter timeout after which nginx must close the idle WebSocket. */
const CLOSING_TIMEOUT_SECONDS = 1;

/** Renders a stack's nginx.conf as StackNginx does, with another idle timeout. */
function renderWithTimeout(spec: StackSpec, seconds: number): string {
  return renderNginxConfig({
    stack: spec.id,
    routes: spec.routes.map((route) => ({
      key: route.key,
      hostname: route.hostname,
      localPath: route.localPath,
      sticky: route.sticky,
      servers: route.members,
    })),
    publicPort: NGINX_PUBLIC_PORT,
    localPort: NGINX_LOCAL_PORT,
    trustedProxy: spec.tunnel?.routingAddress,
    websocketTimeoutSeconds: seconds,
  });
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** Sends a WebSocket handshake by hand and resolves with the status nginx returns. */
function handshakeStatus(
  port: number,
  host: string,
  path: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: "127.0.0.1",
      port,
      path,
      agent: false,
      timeout: 10_000,
      headers: {
        host,
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": Buffer.from("proveit-nginx-ws").toString("base64"),
      },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () =>
      request.destroy(new Error("handshake timed out")),
    );
    request.on("error", reject);
    request.end();
  });
}

describeWithNginx("nginx WebSockets", () => {
  for (const { config, spec, nginxConf } of stacks) {
    describe(`${config} ${spec.id}`, () => {
      let proxy: StackProxy;

      beforeAll(async () => {
        proxy = await StackProxy.start(spec, nginxConf);
      });

      afterAll(async () => {
        await proxy?.stop();
      });

      for (const route of spec.routes) {
        if (route.hostname) {
          const hostname = route.hostname;
          test(`host ${hostname} upgrades and echoes`, async () => {
            const socket = await openWebSocket({
              port: proxy.publicPort,
              host: hostname,
              path: PERSPECTIVE_WEBSOCKET_PATH,
            });
            try {
              expect(await echo(socket, `hello ${hostname}`)).toBe(
                `hello ${hostname}`,
              );
            } finally {
              socket.terminate();
            }
          });
        }
        // A path that redirects to the application's own port carries no WebSocket through nginx.
        if (
          route.localPath &&
          !(route.localPath !== "/" && route.pathPrefix === "redirect")
        ) {
          const path = `${route.localPath}${PERSPECTIVE_WEBSOCKET_PATH.slice(1)}`;
          test(`path ${route.localPath} upgrades and echoes`, async () => {
            const socket = await openWebSocket({ port: proxy.localPort, path });
            try {
              expect(await echo(socket, `hello ${path}`)).toBe(`hello ${path}`);
            } finally {
              socket.terminate();
            }
          });
        }
      }
    });
  }

  describe("Perspective handshake", () => {
    const { spec, nginxConf } = stacks[0];
    const route = spec.routes.find((candidate) => candidate.hostname)!;
    let proxy: StackProxy;

    beforeAll(async () => {
      proxy = await StackProxy.start(spec, nginxConf);
    });

    afterAll(async () => {
      await proxy?.stop();
    });

    test("gateway stub rejects missing Connection", async () => {
      const stub = proxy.stub(route.members[0].containerName);
      const request = http.request({
        host: stub.host,
        port: stub.port,
        path: PERSPECTIVE_WEBSOCKET_PATH,
        agent: false,
        headers: { upgrade: "websocket", connection: "keep-alive" },
      });
      const status = await new Promise<number>((resolve, reject) => {
        request.on("response", (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on("error", reject);
        request.end();
      });
      expect(status).toBe(400);
    });

    // Field case: with the Upgrade or Connection header missing upstream, the
    // gateway refuses the WebSocket and Perspective stays on "Authenticating".
    test("Authenticating case returns 101", async () => {
      const status = await handshakeStatus(
        proxy.publicPort,
        route.hostname!,
        PERSPECTIVE_WEBSOCKET_PATH,
      );
      expect(status).toBe(101);
    });

    test("gateway receives Upgrade websocket", async () => {
      const stub = proxy.stub(route.members[0].containerName);
      stub.reset();
      await handshakeStatus(
        proxy.publicPort,
        route.hostname!,
        PERSPECTIVE_WEBSOCKET_PATH,
      );
      expect(stub.upgrades[0]?.headers.upgrade).toBe("websocket");
    });

    test("gateway receives Connection upgrade", async () => {
      const stub = proxy.stub(route.members[0].containerName);
      stub.reset();
      await handshakeStatus(
        proxy.publicPort,
        route.hostname!,
        PERSPECTIVE_WEBSOCKET_PATH,
      );
      expect(stub.upgrades[0]?.headers.connection).toBe("upgrade");
    });
  });

  // Field case: nginx closes a WebSocket that stays silent for its default
  // proxy_read_timeout of 60 s, which drops idle Perspective sessions.
  describe("idle WebSocket timeout", () => {
    for (const { config, spec, nginxConf } of stacks) {
      test(`${config} ${spec.id} outlasts nginx default`, () => {
        const timeout = Number(
          /proxy_read_timeout (\d+)s;/.exec(nginxConf)?.[1],
        );
        expect(timeout).toBeGreaterThan(NGINX_DEFAULT_READ_TIMEOUT_SECONDS);
      });
    }

    // The shipped hour cannot be waited for in a test, so the same configuration
    // is rendered with timeouts of a few seconds: the WebSocket survives silence
    // shorter than the timeout and is closed after a longer one.
    const shipped: ShippedStack = stacks[0];
    const route = shipped.spec.routes.find((candidate) => candidate.hostname)!;

    test("short render differs only in timeouts", () => {
      const expected = shipped.nginxConf.replace(
        /(proxy_(read|send)_timeout) \d+s;/g,
        `$1 ${SURVIVED_TIMEOUT_SECONDS}s;`,
      );
      expect(renderWithTimeout(shipped.spec, SURVIVED_TIMEOUT_SECONDS)).toBe(
        expected,
      );
    });

    describe(`with a ${SURVIVED_TIMEOUT_SECONDS} s timeout`, () => {
      let proxy: StackProxy;
      let socket: WebSocket | undefined;

      beforeAll(async () => {
        proxy = await StackProxy.start(
          shipped.spec,
          renderWithTimeout(shipped.spec, SURVIVED_TIMEOUT_SECONDS),
        );
      });

      afterAll(async () => {
        socket?.terminate();
        await proxy?.stop();
      });

      test("survives 2 s of silence", async () => {
        socket = await openWebSocket({
          port: proxy.publicPort,
          host: route.hostname,
          path: PERSPECTIVE_WEBSOCKET_PATH,
        });
        await sleep(IDLE_MILLISECONDS);
        expect(await echo(socket, "still there")).toBe("still there");
      });
    });

    describe(`with a ${CLOSING_TIMEOUT_SECONDS} s timeout`, () => {
      let proxy: StackProxy;
      let socket: WebSocket | undefined;

      beforeAll(async () => {
        proxy = await StackProxy.start(
          shipped.spec,
          renderWithTimeout(shipped.spec, CLOSING_TIMEOUT_SECONDS),
        );
      });

      afterAll(async () => {
        socket?.terminate();
        await proxy?.stop();
      });

      test("closes after 1 s of silence", async () => {
        socket = await openWebSocket({
          port: proxy.publicPort,
          host: route.hostname,
          path: PERSPECTIVE_WEBSOCKET_PATH,
        });
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<string>((resolve) => {
          timer = setTimeout(
            () => resolve("open"),
            CLOSING_TIMEOUT_SECONDS * 1000 + 3_000,
          );
        });
        const outcome = await Promise.race([
          closed(socket).then(() => "closed"),
          deadline,
        ]);
        clearTimeout(timer);
        expect(outcome).toBe("closed");
      });
    });
  });
});
