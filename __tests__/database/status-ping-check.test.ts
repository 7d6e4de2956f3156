/**
 * Runs the gateway healthcheck with bash against a local HTTP server that
 * responds to /StatusPing as an Ignition gateway does, on 127.0.0.1 and a free port.
 */
import { spawn } from "node:child_process";
import { createServer, Server } from "node:http";
import { AddressInfo } from "node:net";
import { renderStatusPingCheck } from "../../lib/rendering/ignition-resources";

describe("StatusPing healthcheck", () => {
  let server: Server;
  let port: number;
  let state = "RUNNING";
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      paths.push(request.url ?? "");
      response.setHeader("Content-Type", "application/json");
      response.end(JSON.stringify({ state }));
    });
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve),
    );
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  // Asynchronous, so that the server in this process can respond while bash waits.
  const check = (target: number): Promise<number | null> =>
    new Promise((resolve) => {
      const child = spawn("bash", ["-c", renderStatusPingCheck(target)], {
        stdio: "ignore",
        timeout: 10_000,
      });
      child.once("exit", (code) => resolve(code));
    });

  test("passes when RUNNING", async () => {
    state = "RUNNING";
    expect(await check(port)).toBe(0);
  });

  test("fails while STARTING", async () => {
    state = "STARTING";
    expect(await check(port)).not.toBe(0);
  });

  test("fails without a server", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) =>
      closed.listen(0, "127.0.0.1", resolve),
    );
    const unused = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await check(unused)).not.toBe(0);
  });

  test("asks /StatusPing", () => {
    expect(paths).toContain("/StatusPing");
  });
});
