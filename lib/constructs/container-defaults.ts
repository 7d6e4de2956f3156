import type {
  ContainerConfig,
  ContainerHealthcheck,
  ContainerNetworksAdvanced,
  ContainerPorts,
} from "@cdktf/provider-docker/lib/container";

/** A Docker network a container joins, with the names other containers use for it there. */
export interface NetworkAttachment {
  /** Network name, or a reference to a network created in another stack. */
  readonly name: string;

  /**
   * DNS aliases on this network.
   * @default - none
   */
  readonly aliases?: string[];

  /**
   * Fixed IPv4 address on this network.
   * @default - an address Docker assigns
   */
  readonly ipv4Address?: string;
}

/** A port published on the Docker host. */
export interface HostPortMapping {
  /** Port inside the container. */
  readonly internal: number;

  /** Port on the Docker host. */
  readonly external: number;

  /**
   * Host address to bind to.
   * @default "127.0.0.1"
   */
  readonly ip?: string;

  /**
   * Transport protocol of the port.
   * @default "tcp"
   */
  readonly protocol?: "tcp" | "udp";
}

/** Healthcheck timing in seconds, converted to Docker's duration strings. */
export interface HealthcheckOptions {
  /** Exec-form test, such as `["CMD", "curl", "-fsS", "http://127.0.0.1:8088/StatusPing"]`. */
  readonly test: string[];

  /**
   * Time between two checks.
   * @default 30
   */
  readonly intervalSeconds?: number;

  /**
   * Time after which one check counts as failed.
   * @default 5
   */
  readonly timeoutSeconds?: number;

  /**
   * Consecutive failed checks after which the container is unhealthy.
   * @default 3
   */
  readonly retries?: number;

  /**
   * Time after start during which failed checks do not count.
   * @default 0
   */
  readonly startPeriodSeconds?: number;
}

/** Settings every container of the platform gets: restart policy, capped logs, no privilege escalation. */
export const HARDENED_CONTAINER: Pick<
  ContainerConfig,
  "restart" | "logDriver" | "logOpts" | "securityOpts"
> = {
  restart: "unless-stopped",
  logDriver: "json-file",
  // Three files of 10 MB each, so a chatty container cannot fill the Docker host's disk.
  logOpts: { "max-size": "10m", "max-file": "3" },
  securityOpts: ["no-new-privileges:true"],
};

export function toNetworksAdvanced(
  networks: readonly NetworkAttachment[],
): ContainerNetworksAdvanced[] {
  return networks.map((network) => ({
    name: network.name,
    aliases:
      network.aliases && network.aliases.length > 0
        ? [...network.aliases]
        : undefined,
    ipv4Address: network.ipv4Address,
  }));
}

export function toPorts(ports: readonly HostPortMapping[]): ContainerPorts[] {
  return ports.map((port) => ({
    internal: port.internal,
    external: port.external,
    ip: port.ip ?? "127.0.0.1",
    protocol: port.protocol ?? "tcp",
  }));
}

/**
 * Returns an exec-form healthcheck test that fetches a URL with wget, as
 * busybox provides it in Alpine and busybox-based images.
 */
export function wgetTest(url: string): string[] {
  return ["CMD", "wget", "-q", "-O", "/dev/null", url];
}

export function toHealthcheck(
  options: HealthcheckOptions,
): ContainerHealthcheck {
  return {
    test: [...options.test],
    interval: `${options.intervalSeconds ?? 30}s`,
    timeout: `${options.timeoutSeconds ?? 5}s`,
    retries: options.retries ?? 3,
    startPeriod: `${options.startPeriodSeconds ?? 0}s`,
  };
}

/** Converts a memory size such as `2g` or `512m` to megabytes, the unit of the provider's `memory` attribute. */
export function toMegabytes(size: string): number {
  const amount = Number(size.slice(0, -1));
  const unit = size.slice(-1).toLowerCase();
  if (unit === "g") {
    return amount * 1024;
  }
  if (unit === "m") {
    return amount;
  }
  return Math.max(1, Math.ceil(amount / 1024));
}

/** Formats environment variables as Docker's `NAME=value` list, sorted so the synthesized JSON is stable. */
export function toEnv(environment: Readonly<Record<string, string>>): string[] {
  return Object.keys(environment)
    .sort()
    .map((name) => `${name}=${environment[name]}`);
}
