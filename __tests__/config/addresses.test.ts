import {
  dynamicRange,
  fixedRange,
  formatIpv4,
  parseSubnet,
  planAddresses,
} from "../../lib/config/addresses";

describe("address plan", () => {
  const subnet = parseSubnet("10.213.2.0/24");

  test("dynamic range is the upper half", () => {
    expect(dynamicRange(subnet)).toBe("10.213.2.128/25");
  });

  test("fixed range skips network and gateway", () => {
    const { first, last } = fixedRange(subnet);
    expect(formatIpv4(first)).toBe("10.213.2.2");
    expect(formatIpv4(last)).toBe("10.213.2.127");
  });

  test("addresses are unique and in range", () => {
    const names = Array.from({ length: 100 }, (_, index) => ({
      name: `gateway-${index}`,
    }));
    const plan = planAddresses(subnet, names)!;
    const addresses = [...plan.values()];
    expect(new Set(addresses).size).toBe(100);
    const { first, last } = fixedRange(subnet);
    for (const address of addresses) {
      const value = parseSubnet(`${address}/32`).base;
      expect(value).toBeGreaterThanOrEqual(first);
      expect(value).toBeLessThanOrEqual(last);
    }
  });

  test("adding a container keeps others' addresses", () => {
    const before = planAddresses(subnet, [
      { name: "proveit-mes-nginx" },
      { name: "proveit-mes-ignition-backend" },
    ])!;
    const after = planAddresses(subnet, [
      { name: "proveit-mes-nginx" },
      { name: "proveit-mes-ignition-backend" },
      { name: "proveit-mes-ignition-frontend-02" },
    ])!;
    expect(after.get("proveit-mes-nginx")).toBe(
      before.get("proveit-mes-nginx"),
    );
    expect(after.get("proveit-mes-ignition-backend")).toBe(
      before.get("proveit-mes-ignition-backend"),
    );
  });

  test("pinned address is kept", () => {
    const plan = planAddresses(subnet, [
      { name: "a", pinned: "10.213.2.50" },
      { name: "b" },
    ])!;
    expect(plan.get("a")).toBe("10.213.2.50");
    expect(plan.get("b")).not.toBe("10.213.2.50");
  });

  test("full subnet returns undefined", () => {
    const small = parseSubnet("10.213.2.0/28");
    const names = Array.from({ length: 7 }, (_, index) => ({
      name: `c${index}`,
    }));
    expect(planAddresses(small, names)).toBeUndefined();
  });
});
