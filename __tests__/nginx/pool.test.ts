import { httpGet } from "../support/http-client";
import { describeWithNginx } from "../support/nginx";
import { ShippedStack, StackProxy, stacksOf } from "../support/stack-proxy";
import { synthConfigText } from "../support/synth";
import type { StubResponse } from "../support/upstream-stub";

/** A core stack whose Ignition hostname is served by a pool of three weighted gateways. */
const POOL_CONFIG = `
domain: example.com
cloudflare: { enabled: true }
stacks:
  core:
    nginx: { containerName: proveit-core-nginx, hostPort: 8080 }
    databases:
      postgres:
        shared: true
        containerName: proveit-core-postgres
        pgbouncer: { containerName: proveit-core-pgbouncer, alias: pgbouncer }
    gateways:
      ignition:
        replicas: 3
        weights: [2, 1, 1]
        containerName: proveit-core-ignition-{nn}
        publicHost: ignition
        localPath: /
`;

const HOSTNAME = "ignition.core.example.com";
const MEMBERS = [
  "proveit-core-ignition-01",
  "proveit-core-ignition-02",
  "proveit-core-ignition-03",
];

/** Distinct visitor addresses from the benchmarking range 198.18.0.0/15 (RFC 2544). */
const VISITORS = Array.from(
  { length: 300 },
  (_, index) => `198.18.${Math.floor(index / 250)}.${(index % 250) + 1}`,
);

const core: ShippedStack = stacksOf(
  synthConfigText(POOL_CONFIG),
  "pool.yaml",
)[0];

/**
 * Sends one request through the stack's cloudflared on behalf of a visitor and
 * returns the member that served it, or `status N` when no member did.
 */
async function memberFor(proxy: StackProxy, visitor: string): Promise<string> {
  const response = await httpGet({
    port: proxy.publicPort,
    host: HOSTNAME,
    headers: { "cf-connecting-ip": visitor },
    localAddress: proxy.tunnelAddress,
  });
  if (response.status !== 200) {
    return `status ${response.status}`;
  }
  return (JSON.parse(response.body) as StubResponse).name;
}

/** Member of every visitor, one request each, a few at a time. */
async function membersOf(
  proxy: StackProxy,
  visitors: readonly string[],
): Promise<Map<string, string>> {
  const members = new Map<string, string>();
  for (let start = 0; start < visitors.length; start += 20) {
    const batch = visitors.slice(start, start + 20);
    const served = await Promise.all(
      batch.map((visitor) => memberFor(proxy, visitor)),
    );
    batch.forEach((visitor, index) => members.set(visitor, served[index]));
  }
  return members;
}

function countBy(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) {
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

describeWithNginx("nginx gateway pool", () => {
  test("configuration makes a sticky pool", () => {
    expect(core.nginxConf).toMatch(
      /upstream core_ignition \{\n\s+zone core_ignition 64k;\n\s+hash \$remote_addr consistent;/,
    );
  });

  describe("with every member up", () => {
    let proxy: StackProxy;
    let placement: Map<string, string>;

    beforeAll(async () => {
      proxy = await StackProxy.start(core.spec, core.nginxConf);
      placement = await membersOf(proxy, VISITORS);
    });

    afterAll(async () => {
      await proxy?.stop();
    });

    test("one visitor stays on one member", async () => {
      const served = new Set<string>();
      for (let index = 0; index < 20; index += 1) {
        served.add(await memberFor(proxy, "203.0.113.7"));
      }
      expect(served.size).toBe(1);
    });

    test("repeat visits keep their member", async () => {
      const again = await membersOf(proxy, VISITORS.slice(0, 60));
      const moved = [...again].filter(
        ([visitor, member]) => placement.get(visitor) !== member,
      );
      expect(moved).toEqual([]);
    });

    test("visitors spread over all members", () => {
      expect([...countBy(placement.values()).keys()].sort()).toEqual(MEMBERS);
    });

    test("weight 2 member takes most", () => {
      const counts = countBy(placement.values());
      const heavy = counts.get(MEMBERS[0]) ?? 0;
      expect(heavy).toBeGreaterThan(
        Math.max(counts.get(MEMBERS[1]) ?? 0, counts.get(MEMBERS[2]) ?? 0),
      );
    });

    test("forged CF-Connecting-IP chooses nothing", async () => {
      const served = new Set<string>();
      for (const visitor of VISITORS.slice(0, 30)) {
        const response = await httpGet({
          port: proxy.publicPort,
          host: HOSTNAME,
          headers: { "cf-connecting-ip": visitor },
          localAddress: "127.0.0.1",
        });
        served.add((JSON.parse(response.body) as StubResponse).name);
      }
      expect(served.size).toBe(1);
    });

    test("forged request is not https", async () => {
      const response = await httpGet({
        port: proxy.publicPort,
        host: HOSTNAME,
        headers: { "cf-connecting-ip": "203.0.113.9" },
        localAddress: "127.0.0.1",
      });
      expect(
        (JSON.parse(response.body) as StubResponse).headers[
          "x-forwarded-proto"
        ],
      ).toBe("http");
    });

    test("forged request keyed on socket", async () => {
      const response = await httpGet({
        port: proxy.publicPort,
        host: HOSTNAME,
        headers: { "cf-connecting-ip": "203.0.113.9" },
        localAddress: "127.0.0.1",
      });
      expect(
        (JSON.parse(response.body) as StubResponse).headers["x-real-ip"],
      ).toBe("127.0.0.1");
    });
  });

  describe("with one member removed", () => {
    const removed = MEMBERS[1];
    let proxy: StackProxy;
    let before: Map<string, string>;
    let after: Map<string, string>;

    beforeAll(async () => {
      proxy = await StackProxy.start(core.spec, core.nginxConf);
      before = await membersOf(proxy, VISITORS);
      await proxy.stub(removed).close();
      for (const stub of proxy.stubs.values()) {
        stub.reset();
      }
      after = await membersOf(proxy, VISITORS);
    });

    afterAll(async () => {
      await proxy?.stop();
    });

    test("removed member served visitors before", () => {
      expect(countBy(before.values()).get(removed)).toBeGreaterThan(0);
    });

    test("every visitor still answered", () => {
      expect(
        [...after.values()].filter((member) => member.startsWith("status")),
      ).toEqual([]);
    });

    test("removed member takes no traffic", () => {
      expect(countBy(after.values()).get(removed)).toBeUndefined();
    });

    test("other visitors keep their member", () => {
      const moved = VISITORS.filter(
        (visitor) =>
          before.get(visitor) !== removed &&
          after.get(visitor) !== before.get(visitor),
      );
      expect(moved).toEqual([]);
    });
  });
});
