import { ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NGINX_LOCAL_PORT, NGINX_PUBLIC_PORT } from "../../lib/config/defaults";

/** Debian's nginx, installed by scripts/install-test-dependencies.sh. */
export const NGINX_BINARY = "/usr/sbin/nginx";

/**
 * `describe` when nginx is installed, `describe.skip` otherwise. On CI
 * (`CI=true`) the tests always run, so a missing nginx fails them instead of
 * skipping them.
 */
export function describeWithNginx(name: string, body: () => void): void {
  const run = existsSync(NGINX_BINARY) || process.env.CI === "true";
  if (!run) {
    console.warn(
      `Skipping "${name}": ${NGINX_BINARY} is not installed (scripts/install-test-dependencies.sh installs it).`,
    );
  }
  (run ? describe : describe.skip)(name, body);
}

/**
 * Maps a container address such as 10.213.2.39 to 127.213.2.39. Linux routes
 * all of 127.0.0.0/8 to the loopback interface, so a test can listen on and
 * connect from these addresses without any network setup.
 */
export function toLoopback(address: string): string {
  const octets = address.split(".");
  if (octets.length !== 4) {
    throw new Error(`"${address}" is not an IPv4 address`);
  }
  return ["127", ...octets.slice(1)].join(".");
}

/** Returns a TCP port that is free on the address at the time of the call. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What {@link localizeNginxConfig} changes so that a shipped configuration runs on this machine. */
export interface LocalizeOptions {
  /** Folder for temporary files, in place of the image's `/var/cache/nginx`. */
  readonly prefix: string;
  /** Port on 127.0.0.1 that replaces the public port 80. */
  readonly publicPort: number;
  /** Port on 127.0.0.1 that replaces the local port 8080. */
  readonly localPort: number;
  /** Port that each upstream server listens on here, by its `address:port` in the shipped configuration. */
  readonly upstreamPorts: ReadonlyMap<string, number>;
  /** Replaces `worker_processes auto`; the benchmark uses 1. */
  readonly workerProcesses?: number;
}

/**
 * Rewrites only what must change to run a shipped configuration here: listen
 * ports become free ports on 127.0.0.1, container addresses become loopback
 * addresses (see {@link toLoopback}) with the ports of the local upstream
 * servers, and temporary files go under the prefix. Every other line stays
 * as synthesized.
 */
export function localizeNginxConfig(
  config: string,
  options: LocalizeOptions,
): string {
  const listenPorts = new Map([
    [NGINX_PUBLIC_PORT, options.publicPort],
    [NGINX_LOCAL_PORT, options.localPort],
  ]);
  let text = config.replace(
    /^(\s*)listen (\d+)( default_server)?;$/gm,
    (_line, indent: string, port: string, flag = "") => {
      const local = listenPorts.get(Number(port));
      if (local === undefined) {
        throw new Error(
          `listen port ${port} is neither the public nor the local port of the stack's nginx`,
        );
      }
      return `${indent}listen 127.0.0.1:${local}${flag};`;
    },
  );

  text = text.replace(
    /^(\s*)server (\d+\.\d+\.\d+\.\d+):(\d+)/gm,
    (_line, indent: string, address: string, port: string) => {
      const local = options.upstreamPorts.get(`${address}:${port}`);
      if (local === undefined) {
        throw new Error(
          `no local port given for upstream server ${address}:${port}`,
        );
      }
      return `${indent}server ${toLoopback(address)}:${local}`;
    },
  );

  const trusted = [
    ...text.matchAll(/set_real_ip_from (\d+\.\d+\.\d+\.\d+);/g),
  ].map((match) => match[1]);
  for (const address of new Set(trusted)) {
    const pattern = new RegExp(
      `(?<![\\d.])${address.replace(/\./g, "\\.")}(?![\\d.])`,
      "g",
    );
    text = text.replace(pattern, toLoopback(address));
  }

  const temporaryPaths = [
    "client_body",
    "proxy",
    "fastcgi",
    "uwsgi",
    "scgi",
  ].map(
    (kind) =>
      `  ${kind}_temp_path ${path.join(options.prefix, `${kind}_temp`)};`,
  );
  text = text.replace(/^http \{$/m, ["http {", ...temporaryPaths].join("\n"));

  if (options.workerProcesses !== undefined) {
    text = text.replace(
      /^worker_processes auto;$/m,
      `worker_processes ${options.workerProcesses};`,
    );
  }
  return text;
}

/** Creates a prefix folder that nginx's unprivileged workers can enter when the tests run as root. */
export function createNginxPrefix(): string {
  const prefix = mkdtempSync(path.join(tmpdir(), "proveit-nginx-"));
  chmodSync(prefix, 0o755);
  return prefix;
}

function nginxArguments(prefix: string, file: string): string[] {
  return [
    "-p",
    prefix,
    "-c",
    file,
    "-e",
    "stderr",
    "-g",
    `daemon off; pid ${path.join(prefix, "nginx.pid")};`,
  ];
}

/** Result of `nginx -t` on a configuration. */
export interface NginxCheck {
  readonly status: number | null;
  readonly output: string;
}

/** Runs `nginx -t` on a localized configuration, in a prefix folder of its own. */
export function checkNginxConfig(config: string): NginxCheck {
  const prefix = createNginxPrefix();
  try {
    const file = path.join(prefix, "nginx.conf");
    writeFileSync(file, config);
    // stdout is left out: Node's pipes are sockets, which nginx cannot open as /dev/stdout for the access log.
    const result = spawnSync(
      NGINX_BINARY,
      ["-t", ...nginxArguments(prefix, file)],
      {
        encoding: "utf8",
        stdio: ["ignore", "ignore", "pipe"],
        timeout: 10_000,
      },
    );
    if (result.error) {
      throw result.error;
    }
    return { status: result.status, output: result.stderr };
  } finally {
    rmSync(prefix, { recursive: true, force: true });
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** An nginx master process in the foreground, with its workers. */
export class NginxProcess {
  /**
   * Writes the configuration into the prefix folder, starts nginx, and
   * resolves once every port in `ports` accepts connections. Rejects with
   * nginx's error output when it exits first or is not ready in 10 seconds.
   */
  public static async start(
    prefix: string,
    config: string,
    ports: readonly number[],
  ): Promise<NginxProcess> {
    const file = path.join(prefix, "nginx.conf");
    writeFileSync(file, config);
    // stdout is the access log, which no test reads; Node's pipes are sockets, which nginx cannot open as /dev/stdout.
    const child = spawn(NGINX_BINARY, nginxArguments(prefix, file), {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const nginx = new NginxProcess(child, prefix);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (nginx.exited) {
        await nginx.stop();
        throw new Error(
          `nginx exited with code ${child.exitCode} before it was ready:\n${nginx.errorOutput}`,
        );
      }
      const ready = await Promise.all(ports.map((port) => canConnect(port)));
      if (ready.every(Boolean)) {
        return nginx;
      }
      if (Date.now() > deadline) {
        await nginx.stop();
        throw new Error(
          `nginx did not listen on ports ${ports.join(", ")} within 10 s:\n${nginx.errorOutput}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private output = "";
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly prefix: string,
  ) {
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      this.output += chunk;
    });
    this.exit = new Promise((resolve) => {
      child.once("exit", () => {
        this.exited = true;
        resolve();
      });
    });
  }

  /** Process id of the nginx master. */
  public get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Error log that nginx has written to stderr so far. */
  public get errorOutput(): string {
    return this.output;
  }

  /** Stops nginx at once (SIGTERM, then SIGKILL after 5 s) and removes the prefix folder. */
  public async stop(): Promise<void> {
    if (!this.exited) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
      await this.exit;
      clearTimeout(timer);
    }
    rmSync(this.prefix, { recursive: true, force: true });
  }
}
