/**
 * Benchmarks the generated nginx configuration against the naive proxy
 * pattern and against the upstream alone, in one run on 127.0.0.1.
 *
 *   npx tsx scripts/bench-nginx.ts [--duration 5] [--rounds 3] [--connections 50]
 *
 * wrk loads three targets, one after the other, for the same time. The first
 * is the upstream stub alone. The second is nginx with the core stack's
 * shipped configuration. The third is nginx with a static `proxy_pass` to the
 * upstream address, which speaks HTTP/1.0 and opens a new upstream connection
 * per request. Both nginx runs use one worker process. The three take turns for several rounds and the
 * median of each is reported, so that a burst of other load on the machine
 * weighs on all three alike. Needs nginx (/usr/sbin/nginx) and wrk, which
 * scripts/install-test-dependencies.sh installs. Results go to stdout; copy
 * them into docs/benchmarks.md.
 */
import { spawn, spawnSync } from "node:child_process";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { NGINX_BINARY, NginxProcess, createNginxPrefix, freePort, localizeNginxConfig, toLoopback } from "../__tests__/support/nginx";
import { shippedStacks } from "../__tests__/support/stack-proxy";

/** Throughput of the generated configuration relative to the naive one that the design aims for. */
const GOAL_OVER_NAIVE = 2.5;
/** Throughput of the generated configuration relative to the upstream alone that the design aims for. */
const GOAL_OF_DIRECT = 0.6;

interface Measurement {
  readonly target: string;
  readonly requestsPerSecond: number;
  readonly p99Milliseconds: number;
  readonly errors: number;
}

/** Body of every stub response: about 1 KB, the size of a small API response. */
const BODY = JSON.stringify({ status: "ok", padding: "x".repeat(1000) });

async function startStub(host: string): Promise<http.Server> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
    response.end(BODY);
  });
  server.keepAliveTimeout = 30_000;
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

/** Runs wrk against a URL and reads requests per second, p99 latency and error count from its report. */
async function runWrk(target: string, url: string, host: string, seconds: number, connections: number): Promise<Measurement> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-H", `Host: ${host}`, url];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (chunk) => (text += chunk));
    child.stderr.on("data", (chunk) => (text += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 30) * 1000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(text);
      } else {
        reject(new Error(`wrk exited with code ${code}:\n${text}`));
      }
    });
  });
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const p99 = /^\s+99%\s+(\S+)/m.exec(output);
  if (!rate || !p99) {
    throw new Error(`cannot read the wrk report:\n${output}`);
  }
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  const errors =
    (socketErrors ? socketErrors.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { target, requestsPerSecond: Number(rate[1]), p99Milliseconds: toMilliseconds(p99[1]), errors };
}

/** Renders the naive pattern: a static proxy_pass to the address, HTTP/1.0, a new upstream connection per request. */
function naiveConfig(prefix: string, port: number, upstream: string): string {
  return [
    "worker_processes 1;",
    "error_log stderr warn;",
    "events {",
    "  worker_connections 4096;",
    "}",
    "http {",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${path.join(prefix, `${kind}_temp`)};`),
    "  access_log /dev/stdout;",
    "  server {",
    `    listen 127.0.0.1:${port};`,
    "    location / {",
    `      proxy_pass http://${upstream};`,
    "      proxy_set_header Host $host;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function format(value: number, digits: number): string {
  return value.toFixed(digits);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "50" },
    },
  });
  const seconds = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  for (const [name, value] of Object.entries({ duration: seconds, rounds, connections })) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`--${name} is ${value}: use a whole number of at least 1`);
    }
  }
  if (spawnSync("wrk", ["--version"]).error) {
    throw new Error("wrk is not installed: run scripts/install-test-dependencies.sh");
  }

  const loadBefore = os.loadavg()[0];
  const nginxVersion = spawnSync(NGINX_BINARY, ["-v"], { encoding: "utf8" }).stderr.trim();
  const core = shippedStacks().find((stack) => stack.spec.id === "core" && stack.config === "default.yaml");
  const route = core?.spec.routes.find((candidate) => candidate.hostname && candidate.members.length > 0);
  if (!core || !route?.hostname) {
    throw new Error("configs/default.yaml has no core stack with a public hostname");
  }
  const member = route.members[0];
  const stubHost = toLoopback(member.address);
  const stub = await startStub(stubHost);
  const stubPort = (stub.address() as AddressInfo).port;

  const generatedPrefix = createNginxPrefix();
  const naivePrefix = createNginxPrefix();
  const [generatedPort, generatedLocalPort, naivePort] = [await freePort(), await freePort(), await freePort()];
  const generatedConfig = localizeNginxConfig(core.nginxConf, {
    prefix: generatedPrefix,
    publicPort: generatedPort,
    localPort: generatedLocalPort,
    upstreamPorts: new Map([[`${member.address}:${member.port}`, stubPort]]),
    workerProcesses: 1,
  });
  const nginxProcesses: NginxProcess[] = [];
  const roundResults: Measurement[][] = [];
  try {
    nginxProcesses.push(await NginxProcess.start(generatedPrefix, generatedConfig, [generatedPort]));
    nginxProcesses.push(await NginxProcess.start(naivePrefix, naiveConfig(naivePrefix, naivePort, `${stubHost}:${stubPort}`), [naivePort]));

    const targets = [
      { name: "upstream directly", url: `http://${stubHost}:${stubPort}/` },
      { name: "generated configuration", url: `http://127.0.0.1:${generatedPort}/` },
      { name: "naive proxy_pass", url: `http://127.0.0.1:${naivePort}/` },
    ];
    for (let round = 1; round <= rounds; round += 1) {
      const measured: Measurement[] = [];
      for (const target of targets) {
        // One second of warm-up so that each run starts with open connections and a compiled stub.
        await runWrk(target.name, target.url, route.hostname, 1, connections);
        const result = await runWrk(target.name, target.url, route.hostname, seconds, connections);
        measured.push(result);
        console.error(`round ${round}, ${target.name}: ${format(result.requestsPerSecond, 0)} requests/s, p99 ${format(result.p99Milliseconds, 2)} ms`);
      }
      roundResults.push(measured);
    }
  } finally {
    await Promise.all(nginxProcesses.map((nginx) => nginx.stop()));
    await new Promise<void>((resolve) => stub.close(() => resolve()));
  }

  const results = roundResults[0].map((first, index) => ({
    target: first.target,
    requestsPerSecond: median(roundResults.map((measured) => measured[index].requestsPerSecond)),
    p99Milliseconds: median(roundResults.map((measured) => measured[index].p99Milliseconds)),
    errors: roundResults.reduce((sum, measured) => sum + measured[index].errors, 0),
  }));
  const [direct, generated, naive] = results;
  const overNaive = generated.requestsPerSecond / naive.requestsPerSecond;
  const ofDirect = generated.requestsPerSecond / direct.requestsPerSecond;
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  console.log(`nginx benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${cpu}), ${os.platform()} ${os.release()}`);
  console.log(`${rounds} rounds of wrk -t1 -c${connections} -d${seconds}s --latency per target, medians; upstream: Node.js ${process.version} HTTP server, ${BODY.length}-byte body; one nginx worker`);
  console.log(`${nginxVersion}; 1-minute load average ${format(loadBefore, 2)} before and ${format(os.loadavg()[0], 2)} after the run`);
  console.log(`config: configs/${core.config}, stack ${core.spec.id}, host ${route.hostname}`);
  console.log("");
  console.log("| Target | Requests/s | p99 latency (ms) | Errors, all rounds |");
  console.log("|---|---:|---:|---:|");
  for (const result of results) {
    console.log(`| ${result.target} | ${format(result.requestsPerSecond, 0)} | ${format(result.p99Milliseconds, 2)} | ${result.errors} |`);
  }
  console.log("");
  const lowerP99 = generated.p99Milliseconds < naive.p99Milliseconds;
  console.log(`generated / naive throughput: ${format(overNaive, 2)} (goal >= ${GOAL_OVER_NAIVE}: ${overNaive >= GOAL_OVER_NAIVE ? "met" : "missed"})`);
  console.log(`generated / direct throughput: ${format(ofDirect, 2)} (goal >= ${GOAL_OF_DIRECT}: ${ofDirect >= GOAL_OF_DIRECT ? "met" : "missed"})`);
  console.log(`generated p99 below naive p99: ${lowerP99 ? "yes" : "no"}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
