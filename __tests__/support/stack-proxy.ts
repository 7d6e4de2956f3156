import { readdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import type { StackSpec, UpstreamMember } from "../../lib/config/model";
import {
  NginxProcess,
  createNginxPrefix,
  freePort,
  localizeNginxConfig,
  toLoopback,
} from "./nginx";
import {
  PROJECT_ROOT,
  StackJson,
  SynthResult,
  resourcesOfType,
  synthConfigFile,
} from "./synth";
import { UpstreamStub } from "./upstream-stub";

/** Path of the configuration file inside the nginx container. */
export const NGINX_CONF_FILE = "/etc/nginx/nginx.conf";

/** Lists every shipped configuration: `configs/*.yaml`. */
export function shippedConfigFiles(): string[] {
  const folder = path.join(PROJECT_ROOT, "configs");
  return readdirSync(folder)
    .filter((file) => file.endsWith(".yaml"))
    .sort()
    .map((file) => path.join(folder, file));
}

/** Finds the nginx docker_container of a synthesized stack: the one that uploads `/etc/nginx/nginx.conf`. */
export function nginxContainerOf(stack: StackJson): StackJson {
  const containers = Object.values(
    resourcesOfType(stack, "docker_container"),
  ).filter((container) =>
    (container.upload ?? []).some(
      (upload: StackJson) => upload.file === NGINX_CONF_FILE,
    ),
  );
  if (containers.length !== 1) {
    throw new Error(
      `expected one container that uploads ${NGINX_CONF_FILE}, found ${containers.length}`,
    );
  }
  return containers[0];
}

/** Returns the `nginx.conf` text that the stack uploads into its nginx container. */
export function nginxConfOf(stack: StackJson): string {
  const upload = nginxContainerOf(stack).upload.find(
    (entry: StackJson) => entry.file === NGINX_CONF_FILE,
  );
  return upload.content as string;
}

/** One stack of a shipped configuration, with the nginx.conf taken from its synthesized JSON. */
export interface ShippedStack {
  /** Configuration file name, such as `default.yaml`. */
  readonly config: string;
  readonly spec: StackSpec;
  readonly nginxConf: string;
}

/** Synthesizes every shipped configuration and returns each stack's nginx.conf with the stack's model. */
export function shippedStacks(): ShippedStack[] {
  return shippedConfigFiles().flatMap((file) =>
    stacksOf(synthConfigFile(file), path.basename(file)),
  );
}

/** Takes each stack's nginx.conf out of a synthesis result and removes its output folder. */
export function stacksOf(result: SynthResult, config: string): ShippedStack[] {
  try {
    return result.deployment.stacks.map((spec) => ({
      config,
      spec,
      nginxConf: nginxConfOf(result.stacks[spec.id]),
    }));
  } finally {
    result.cleanup();
  }
}

/** Collects every upstream container of a stack once, keyed by container name. */
export function upstreamMembers(spec: StackSpec): Map<string, UpstreamMember> {
  const members = new Map<string, UpstreamMember>();
  for (const route of spec.routes) {
    for (const member of route.members) {
      members.set(member.containerName, member);
    }
  }
  return members;
}

/** Options of {@link StackProxy.start}. */
export interface StackProxyOptions {
  /** Containers to leave without a stub, as if they were stopped or not yet created. */
  readonly missing?: readonly string[];
  /** See {@link LocalizeOptions.workerProcesses}. */
  readonly workerProcesses?: number;
}

/**
 * A stack's nginx running here with its shipped configuration, and one
 * {@link UpstreamStub} per upstream container on that container's loopback
 * address.
 */
export class StackProxy {
  public static async start(
    spec: StackSpec,
    nginxConf: string,
    options: StackProxyOptions = {},
  ): Promise<StackProxy> {
    const missing = new Set(options.missing ?? []);
    const stubs = new Map<string, UpstreamStub>();
    const upstreamPorts = new Map<string, number>();
    const prefix = createNginxPrefix();
    try {
      for (const member of upstreamMembers(spec).values()) {
        const host = toLoopback(member.address);
        let port: number;
        if (missing.has(member.containerName)) {
          // A port with nothing listening: connections are refused, as by a stopped container.
          port = await freePort(host);
        } else {
          const stub = await UpstreamStub.start(member.containerName, host);
          stubs.set(member.containerName, stub);
          port = stub.port;
        }
        upstreamPorts.set(`${member.address}:${member.port}`, port);
      }
      const publicPort = await freePort();
      const localPort = await freePort();
      const config = localizeNginxConfig(nginxConf, {
        prefix,
        publicPort,
        localPort,
        upstreamPorts,
        workerProcesses: options.workerProcesses,
      });
      const nginx = await NginxProcess.start(prefix, config, [
        publicPort,
        localPort,
      ]);
      return new StackProxy(spec, nginx, stubs, publicPort, localPort, config);
    } catch (error) {
      await Promise.all([...stubs.values()].map((stub) => stub.close()));
      rmSync(prefix, { recursive: true, force: true });
      throw error;
    }
  }

  private constructor(
    public readonly spec: StackSpec,
    public readonly nginx: NginxProcess,
    /** Stubs by container name; missing containers have none. */
    public readonly stubs: ReadonlyMap<string, UpstreamStub>,
    /** Port that stands for the public port 80. */
    public readonly publicPort: number,
    /** Port that stands for the local port 8080. */
    public readonly localPort: number,
    /** The configuration as nginx runs it here. */
    public readonly config: string,
  ) {}

  /** Loopback address of the stack's cloudflared, the only client trusted to send CF-Connecting-IP. */
  public get tunnelAddress(): string {
    if (!this.spec.tunnel) {
      throw new Error(`stack ${this.spec.id} has no tunnel`);
    }
    return toLoopback(this.spec.tunnel.routingAddress);
  }

  /** Returns the stub of a container, and throws when the container has none. */
  public stub(containerName: string): UpstreamStub {
    const stub = this.stubs.get(containerName);
    if (!stub) {
      throw new Error(`no stub runs for ${containerName}`);
    }
    return stub;
  }

  /** Stops nginx, then every stub. */
  public async stop(): Promise<void> {
    await this.nginx.stop();
    await Promise.all([...this.stubs.values()].map((stub) => stub.close()));
  }
}
