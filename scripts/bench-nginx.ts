/**
 * Benchmarks the generated nginx configuration against the naive proxy
 * pattern and against the upstream alone, in one run on 127.0.0.1.
 *
 *   npx tsx scripts/bench-nginx.ts [--duration 5] [--rounds 3] [--connections 50] [--keepalive N]
 *
 * wrk loads four targets, one after the other, for the same time:
 * - the upstream stub alone;
 * - nginx with the core stack's shipped configuration;
 * - nginx with the naive pattern: a static `proxy_pass` to the upstream
 *   address, HTTP/1.0, a new upstream connection per request;
 * - nginx with a minimal keepalive proxy, the reference for what the shipped
 *   configuration's headers, maps and pool settings cost.
 * Every nginx runs one worker process. The targets take turns for several
 * rounds and the median of each is reported, so that a burst of other load on
 * the machine weighs on all of them alike. `--keepalive N` replaces the
 * number of idle upstream connections that the shipped configuration keeps
 * per worker, to compare settings. Needs nginx (/usr/sbin/nginx) and wrk,
 * which scripts/install-test-dependencies.sh installs. The report goes to
 * stdout, progress to stderr; docs/benchmarks.md records the results.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import {
  NGINX_BINARY,
  NginxProcess,
  createNginxPrefix,
  freePort,
  localizeNginxConfig,
  toLoopback,
} from "../__tests__/support/nginx";
import { shippedStacks } from "../__tests__/support/stack-proxy";

/** Throughput of the generated configuration relative to the naive one that the design aims for. */
const GOAL_OVER_NAIVE = 2.5;

/** Throughput of the generated configuration relative to the upstream alone that the design aims for. */
const GOAL_OF_DIRECT = 0.6;

/** Body of every stub response: about 1 KB, the size of a small API response. */
const BODY = JSON.stringify({ status: "ok", padding: "x".repeat(1000) });

/** Clock ticks per second of the CPU times in /proc/PID/stat. */
const CLOCK_TICKS =
  Number(
    spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim(),
  ) || 100;

/** CPU time per request, in microseconds, of each process that served it. */
interface CpuPerRequest {
  readonly wrk: number;
  readonly nginx: number;
  readonly stub: number;
}

/** Results of one wrk run on one target. */
interface Measurement {
  readonly target: string;
  readonly requestsPerSecond: number;
  readonly p99Milliseconds: number;
  readonly errors: number;
  readonly cpuPerRequest: CpuPerRequest;
  /** TCP connections that the stub accepted during the run. */
  readonly upstreamConnections: number;
}

interface Target {
  readonly name: string;
  readonly url: string;
  /** The nginx that serves the target, whose workers' CPU time is measured. */
  readonly nginx?: NginxProcess;
}

interface Options {
  readonly seconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly keepalive?: number;
}

/** TCP connections that the stub has accepted since it started. */
let stubConnections = 0;

async function startStub(host: string): Promise<http.Server> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(BODY),
    });
    response.end(BODY);
  });
  server.keepAliveTimeout = 30_000;
  server.on("connection", () => {
    stubConnections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

function toMilliseconds(value: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(value);
  if (!match) {
    throw new Error(`cannot read wrk latency "${value}"`);
  }
  const factor = { us: 0.001, ms: 1, s: 1000 }[match[2] as "us" | "ms" | "s"];
  return Number(match[1]) * factor;
}

/** Fields of /proc/PID/stat after the command name, which may contain spaces. */
function statFields(text: string): string[] {
  return text
    .slice(text.lastIndexOf(")") + 2)
    .trim()
    .split(" ");
}

/** Sums the CPU seconds (user and system) of every child of a process, such as the workers of an nginx master. */
function childrenCpuSeconds(parent: number): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const fields = statFields(readFileSync(`/proc/${entry}/stat`, "utf8"));
      // After the name come state and ppid; utime and stime are the 12th and 13th fields.
      if (Number(fields[1]) === parent) {
        ticks += Number(fields[11]) + Number(fields[12]);
      }
    } catch {
      // The process ended between listing and reading.
    }
  }
  return ticks / CLOCK_TICKS;
}

/** Runs a command to its end and returns stdout and stderr together; kills its process group after `limitSeconds`. */
function runToEnd(
  command: string,
  args: readonly string[],
  limitSeconds: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let text = "";
    child.stdout.on("data", (chunk) => (text += chunk));
    child.stderr.on("data", (chunk) => (text += chunk));
    const timer = setTimeout(
      () => process.kill(-(child.pid ?? 0), "SIGKILL"),
      limitSeconds * 1000,
    );
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(text);
      } else {
        reject(new Error(`${command} exited with code ${code}:\n${text}`));
      }
    });
  });
}

/**
 * Runs wrk against a target and reads requests per second, p99 latency and
 * errors from its report. wrk runs under a shell that prints its own
 * /proc/PID/stat afterwards, whose times of waited-for children are wrk's.
 */
async function runWrk(
  target: Target,
  host: string,
  seconds: number,
  connections: number,
): Promise<Measurement> {
  const args = [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    "-H",
    `Host: ${host}`,
    target.url,
  ];
  const script =
    'wrk "$@"; status=$?; echo; echo "shell-stat $(cat /proc/$$/stat)"; exit $status';
  const nginxBefore = target.nginx ? childrenCpuSeconds(target.nginx.pid) : 0;
  const stubBefore = process.cpuUsage();
  const connectionsBefore = stubConnections;

  const output = await runToEnd(
    "sh",
    ["-c", script, "sh", ...args],
    seconds + 30,
  );

  const stubUsage = process.cpuUsage(stubBefore);
  const nginxSeconds = target.nginx
    ? childrenCpuSeconds(target.nginx.pid) - nginxBefore
    : 0;
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p99 = /^\s+99%\s+(\S+)/m.exec(output);
  const shellStat = /^shell-stat (.*)$/m.exec(output);
  if (!rate || !p99 || !shellStat) {
    throw new Error(`cannot read the wrk report:\n${output}`);
  }
  const socketErrors =
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
      output,
    );
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const socketErrorCount = socketErrors
    ? socketErrors.slice(1).reduce((sum, value) => sum + Number(value), 0)
    : 0;

  const requests = Number(rate[1]) * seconds;
  const shellFields = statFields(shellStat[1]);
  // cutime and cstime, the 14th and 15th fields after the name, contain wrk's time once the shell has waited for it.
  const wrkSeconds =
    (Number(shellFields[13]) + Number(shellFields[14])) / CLOCK_TICKS;
  return {
    target: target.name,
    requestsPerSecond: Number(rate[1]),
    p99Milliseconds: toMilliseconds(p99[1]),
    errors: socketErrorCount + (non2xx ? Number(non2xx[1]) : 0),
    cpuPerRequest: {
      wrk: (wrkSeconds * 1e6) / requests,
      nginx: (nginxSeconds * 1e6) / requests,
      stub: (stubUsage.user + stubUsage.system) / requests,
    },
    upstreamConnections: stubConnections - connectionsBefore,
  };
}

/** Renders a one-worker nginx.conf around a `location /` body. */
function referenceConfig(
  prefix: string,
  port: number,
  upstreamBlock: string[],
  location: string[],
): string {
  const temporaryPaths = [
    "client_body",
    "proxy",
    "fastcgi",
    "uwsgi",
    "scgi",
  ].map((kind) => `  ${kind}_temp_path ${path.join(prefix, `${kind}_temp`)};`);
  return [
    "worker_processes 1;",
    "error_log stderr warn;",
    "events {",
    "  worker_connections 4096;",
    "}",
    "http {",
    ...temporaryPaths,
    "  access_log /dev/stdout;",
    ...upstreamBlock,
    "  server {",
    `    listen 127.0.0.1:${port};`,
    "    location / {",
    ...location,
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

/** Renders the naive pattern: a static proxy_pass to the address, HTTP/1.0, a new upstream connection per request. */
function naiveConfig(prefix: string, port: number, upstream: string): string {
  return referenceConfig(
    prefix,
    port,
    [],
    [
      `      proxy_pass http://${upstream};`,
      "      proxy_set_header Host $host;",
    ],
  );
}

/** Renders the least configuration that keeps upstream connections open. */
function minimalKeepaliveConfig(
  prefix: string,
  port: number,
  upstream: string,
): string {
  return referenceConfig(
    prefix,
    port,
    [
      "  upstream stub {",
      `    server ${upstream};`,
      "    keepalive 128;",
      "  }",
    ],
    [
      "      proxy_pass http://stub;",
      "      proxy_http_version 1.1;",
      '      proxy_set_header Connection "";',
    ],
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

function format(value: number, digits: number): string {
  return value.toFixed(digits);
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "50" },
      keepalive: { type: "string" },
    },
  });
  const options = {
    seconds: Number(values.duration),
    rounds: Number(values.rounds),
    connections: Number(values.connections),
    keepalive:
      values.keepalive === undefined ? undefined : Number(values.keepalive),
  };
  const checked = {
    duration: options.seconds,
    rounds: options.rounds,
    connections: options.connections,
    keepalive: options.keepalive ?? 1,
  };
  for (const [name, value] of Object.entries(checked)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(
        `--${name} is ${value}: use a whole number of at least 1`,
      );
    }
  }
  return options;
}

/** Medians over rounds of each target's measurements, in target order. */
function medianOfRounds(roundResults: readonly Measurement[][]): Measurement[] {
  const column = (index: number, read: (measurement: Measurement) => number) =>
    median(roundResults.map((measured) => read(measured[index])));
  return roundResults[0].map((first, index) => ({
    target: first.target,
    requestsPerSecond: column(
      index,
      (measurement) => measurement.requestsPerSecond,
    ),
    p99Milliseconds: column(
      index,
      (measurement) => measurement.p99Milliseconds,
    ),
    errors: roundResults.reduce(
      (sum, measured) => sum + measured[index].errors,
      0,
    ),
    cpuPerRequest: {
      wrk: column(index, (measurement) => measurement.cpuPerRequest.wrk),
      nginx: column(index, (measurement) => measurement.cpuPerRequest.nginx),
      stub: column(index, (measurement) => measurement.cpuPerRequest.stub),
    },
    upstreamConnections: column(
      index,
      (measurement) => measurement.upstreamConnections,
    ),
  }));
}

async function main(): Promise<void> {
  const options = readOptions();
  if (spawnSync("wrk", ["--version"]).error) {
    throw new Error(
      "wrk is not installed: run scripts/install-test-dependencies.sh",
    );
  }
  const loadBefore = os.loadavg()[0];
  const nginxVersion = spawnSync(NGINX_BINARY, ["-v"], {
    encoding: "utf8",
  }).stderr.trim();

  const core = shippedStacks().find(
    (stack) => stack.spec.id === "core" && stack.config === "default.yaml",
  );
  const route = core?.spec.routes.find((candidate) => candidate.hostname);
  if (!core || !route?.hostname) {
    throw new Error(
      "configs/default.yaml has no core stack with a public hostname",
    );
  }
  const member = route.members[0];
  const stubHost = toLoopback(member.address);
  const stub = await startStub(stubHost);
  const stubPort = (stub.address() as AddressInfo).port;
  const stubAddress = `${stubHost}:${stubPort}`;

  const shippedConfig =
    options.keepalive === undefined
      ? core.nginxConf
      : core.nginxConf.replace(
          /^(\s*keepalive) \d+;$/gm,
          `$1 ${options.keepalive};`,
        );
  const nginxProcesses: NginxProcess[] = [];
  const roundResults: Measurement[][] = [];
  try {
    const start = async (
      render: (prefix: string, port: number) => string,
    ): Promise<{ nginx: NginxProcess; port: number }> => {
      const prefix = createNginxPrefix();
      const port = await freePort();
      const nginx = await NginxProcess.start(prefix, render(prefix, port), [
        port,
      ]);
      nginxProcesses.push(nginx);
      return { nginx, port };
    };
    const localPort = await freePort();
    const generated = await start((prefix, port) =>
      localizeNginxConfig(shippedConfig, {
        prefix,
        publicPort: port,
        localPort,
        upstreamPorts: new Map([
          [`${member.address}:${member.port}`, stubPort],
        ]),
        workerProcesses: 1,
      }),
    );
    const naive = await start((prefix, port) =>
      naiveConfig(prefix, port, stubAddress),
    );
    const minimal = await start((prefix, port) =>
      minimalKeepaliveConfig(prefix, port, stubAddress),
    );
    const targets: Target[] = [
      { name: "upstream directly", url: `http://${stubAddress}/` },
      {
        name: "generated configuration",
        url: `http://127.0.0.1:${generated.port}/`,
        nginx: generated.nginx,
      },
      {
        name: "naive proxy_pass",
        url: `http://127.0.0.1:${naive.port}/`,
        nginx: naive.nginx,
      },
      {
        name: "minimal keepalive proxy",
        url: `http://127.0.0.1:${minimal.port}/`,
        nginx: minimal.nginx,
      },
    ];

    for (let round = 1; round <= options.rounds; round += 1) {
      const measured: Measurement[] = [];
      for (const target of targets) {
        // One second of warm-up so that each run starts with open connections and a compiled stub.
        await runWrk(target, route.hostname, 1, options.connections);
        const result = await runWrk(
          target,
          route.hostname,
          options.seconds,
          options.connections,
        );
        measured.push(result);
        console.error(
          `round ${round}, ${target.name}: ${format(result.requestsPerSecond, 0)} requests/s, p99 ${format(result.p99Milliseconds, 2)} ms`,
        );
      }
      roundResults.push(measured);
    }
  } finally {
    await Promise.all(nginxProcesses.map((nginx) => nginx.stop()));
    await new Promise<void>((resolve) => stub.close(() => resolve()));
  }

  const results = medianOfRounds(roundResults);
  const [, generated, naive] = results;
  // Ratios are taken within each round, whose runs are close in time, and then the median over rounds.
  const overNaive = median(
    roundResults.map(
      ([, generatedRun, naiveRun]) =>
        generatedRun.requestsPerSecond / naiveRun.requestsPerSecond,
    ),
  );
  const ofDirect = median(
    roundResults.map(
      ([directRun, generatedRun]) =>
        generatedRun.requestsPerSecond / directRun.requestsPerSecond,
    ),
  );
  const lowerP99 = generated.p99Milliseconds < naive.p99Milliseconds;
  const roundsText = `${options.rounds} ${options.rounds === 1 ? "round" : "rounds"}`;
  const changed =
    options.keepalive === undefined
      ? "as shipped"
      : `with keepalive ${options.keepalive}`;

  console.log(
    `nginx benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), ${os.platform()} ${os.release()}`,
  );
  console.log(
    `${roundsText} of wrk -t1 -c${options.connections} -d${options.seconds}s --latency per target, medians`,
  );
  console.log(
    `upstream: Node.js ${process.version} HTTP server, ${BODY.length}-byte body; ${nginxVersion}, one worker`,
  );
  console.log(
    `1-minute load average ${format(loadBefore, 2)} before and ${format(os.loadavg()[0], 2)} after the run`,
  );
  console.log(
    `config: configs/${core.config}, stack ${core.spec.id}, host ${route.hostname}, ${changed}`,
  );
  console.log("");
  console.log(
    "| Target | Requests/s | p99 latency (ms) | Errors, all rounds | Connections to the stub | CPU µs per request: wrk / nginx / stub |",
  );
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const result of results) {
    const cpu = [
      result.cpuPerRequest.wrk,
      result.cpuPerRequest.nginx,
      result.cpuPerRequest.stub,
    ].map((value) => format(value, 1));
    const columns = [
      result.target,
      format(result.requestsPerSecond, 0),
      format(result.p99Milliseconds, 2),
      result.errors,
      format(result.upstreamConnections, 0),
      cpu.join(" / "),
    ];
    console.log(`| ${columns.join(" | ")} |`);
  }
  console.log("");
  console.log(
    `generated / naive throughput, median of rounds: ${format(overNaive, 2)} (goal >= ${GOAL_OVER_NAIVE}: ${overNaive >= GOAL_OVER_NAIVE ? "met" : "missed"})`,
  );
  console.log(
    `generated / direct throughput, median of rounds: ${format(ofDirect, 2)} (goal >= ${GOAL_OF_DIRECT}: ${ofDirect >= GOAL_OF_DIRECT ? "met" : "missed"})`,
  );
  console.log(
    `generated p99 below naive p99 (medians): ${lowerP99 ? "yes" : "no"}`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
