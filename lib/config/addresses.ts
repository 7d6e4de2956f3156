/**
 * IPv4 arithmetic and the fixed-address plan of a Docker network.
 *
 * nginx keeps upstream connections open only to upstream groups whose server
 * addresses it resolves when it loads its configuration, so every container
 * that nginx proxies to gets a fixed address on its stack network. The lower
 * half of each subnet holds those fixed addresses; the upper half is the
 * `ip_range` that Docker assigns to containers without one, so the two never
 * collide.
 */

export function parseIpv4(address: string): number {
  const parts = address.split(".").map((part) => Number(part));
  return (
    ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0
  );
}

export function formatIpv4(value: number): string {
  return [
    value >>> 24,
    (value >>> 16) & 255,
    (value >>> 8) & 255,
    value & 255,
  ].join(".");
}

export interface Subnet {
  readonly cidr: string;
  /** Network address as an unsigned 32-bit number. */
  readonly base: number;
  readonly prefixLength: number;
  readonly size: number;
}

export function parseSubnet(cidr: string): Subnet {
  const [address, prefix] = cidr.split("/");
  const prefixLength = Number(prefix);
  const size = 2 ** (32 - prefixLength);
  const mask =
    prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return { cidr, base: (parseIpv4(address) & mask) >>> 0, prefixLength, size };
}

/** True when the address is the subnet's network address, that is, the CIDR has no host bits set. */
export function isNetworkAddress(cidr: string): boolean {
  const [address] = cidr.split("/");
  return parseSubnet(cidr).base === parseIpv4(address);
}

export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** Gateway address that Docker gives the network bridge: the first host address. */
export function gatewayAddress(subnet: Subnet): string {
  return formatIpv4(subnet.base + 1);
}

/** Upper half of the subnet, from which Docker assigns addresses to containers without a fixed one. */
export function dynamicRange(subnet: Subnet): string {
  return `${formatIpv4(subnet.base + subnet.size / 2)}/${subnet.prefixLength + 1}`;
}

/** First and last address usable as a fixed container address: after the gateway, before the dynamic half. */
export function fixedRange(subnet: Subnet): { first: number; last: number } {
  return { first: subnet.base + 2, last: subnet.base + subnet.size / 2 - 1 };
}

export function isFixedAddress(subnet: Subnet, address: string): boolean {
  const value = parseIpv4(address);
  const { first, last } = fixedRange(subnet);
  return value >= first && value <= last;
}

/** FNV-1a, 32 bits: a stable hash so that a container keeps its address when others are added. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of name) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export interface AddressRequest {
  /** Container name; the hash of it picks the first slot tried. */
  readonly name: string;
  /** Address pinned in the configuration, if any. */
  readonly pinned?: string;
}

/**
 * Assigns each container a fixed address in the subnet's lower half.
 * Pinned addresses are kept. The others, in name order, start at a slot chosen
 * by the hash of the container name and take the next free one.
 * Returns `undefined` when the subnet has too few addresses.
 */
export function planAddresses(
  subnet: Subnet,
  requests: readonly AddressRequest[],
): Map<string, string> | undefined {
  const { first, last } = fixedRange(subnet);
  const slots = last - first + 1;
  const taken = new Set<number>();
  const plan = new Map<string, string>();
  for (const request of requests) {
    if (request.pinned) {
      taken.add(parseIpv4(request.pinned));
      plan.set(request.name, request.pinned);
    }
  }
  const unpinned = requests
    .filter((request) => !request.pinned)
    .sort((a, b) => a.name.localeCompare(b.name));
  if (slots <= 0 || taken.size + unpinned.length > slots) {
    return undefined;
  }
  for (const request of unpinned) {
    let offset = hashName(request.name) % slots;
    while (taken.has(first + offset)) {
      offset = (offset + 1) % slots;
    }
    taken.add(first + offset);
    plan.set(request.name, formatIpv4(first + offset));
  }
  return plan;
}
