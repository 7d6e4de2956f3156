/**
 * Measures synth time and peak memory of three apps, run the way cdktf.json
 * runs the app:
 *
 * - minimal: scripts/bench/minimal-app.ts, one stack with one resource;
 * - full: main.ts with configs/full.yaml, all eight stacks;
 * - mes-100: main.ts with configs/full.yaml whose MES frontend pool has 100 members.
 *
 * Each app runs once to warm the disk and the tsx cache, then `--runs` times,
 * the three interleaved so that load from other processes spreads evenly.
 * Wall time is measured around the child process; CPU time (user + system)
 * and peak RSS (the largest process of the run) come from GNU time.
 *
 * Usage: npm run bench:synth [-- --runs 5] [-- --app "npx tsx main.ts"]
 */
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parseDocument } from "yaml";
import { ConfigError, loadDeployment } from "../lib";

const PROJECT_ROOT = path.resolve(__dirname, "..");
const GNU_TIME = "/usr/bin/time";
const MINIMAL_APP = "scripts/bench/minimal-app.ts";
const FULL_CONFIG = path.join(PROJECT_ROOT, "configs", "full.yaml");
const FRONTEND_REPLICAS = 100;
const GOALS = { fullOverMinimal: 2, mes100OverFull: 1.5 };

interface Case {
  readonly name: string;
  readonly command: string[];
  readonly config?: string;
  /** Throws when the output is not what the case should synthesize. */
  readonly check: (outdir: string) => void;
}

interface Sample {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

function readStacks(
  outdir: string,
): Record<string, { synthesizedStackPath: string }> {
  return JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8"))
    .stacks;
}

function expectStacks(outdir: string, count: number): void {
  const found = Object.keys(readStacks(outdir)).length;
  if (found !== count) {
    throw new Error(`expected ${count} stacks in ${outdir}, found ${found}`);
  }
}

function countFrontends(outdir: string): number {
  const stack = readStacks(outdir).mes;
  const json = JSON.parse(
    readFileSync(path.join(outdir, stack.synthesizedStackPath), "utf8"),
  );
  const containers: Record<string, { name: string }> =
    json.resource?.docker_container ?? {};
  return Object.values(containers).filter((container) =>
    /ignition-frontend-\d+$/.test(container.name),
  ).length;
}

/**
 * Writes a copy of configs/full.yaml whose MES frontend pool has 100
 * members. Host ports apply to member 01 only, so they do not collide. When
 * the fixed-address half of the MES subnet is too small for the pool, the
 * subnet grows to a /23.
 */
function writeMes100Config(folder: string): { file: string; note: string } {
  const document = parseDocument(readFileSync(FULL_CONFIG, "utf8"));
  document.setIn(
    ["stacks", "mes", "gateways", "ignition-frontend", "replicas"],
    FRONTEND_REPLICAS,
  );
  const file = path.join(folder, "mes-100.yaml");
  writeFileSync(file, document.toString());
  try {
    loadDeployment(file, {});
    return {
      file,
      note: `MES subnet kept at ${document.getIn(["stacks", "mes", "network", "subnet"])}`,
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
  }
  // NOTE: this path has not run, because the pool fits the /24 of configs/full.yaml. The widened
  // subnet keeps its base address, which must then be /23-aligned or the configuration is rejected.
  const subnet = String(document.getIn(["stacks", "mes", "network", "subnet"]));
  const widened = subnet.replace(/\/24$/, "/23");
  document.setIn(["stacks", "mes", "network", "subnet"], widened);
  writeFileSync(file, document.toString());
  loadDeployment(file, {});
  return { file, note: `MES subnet widened from ${subnet} to ${widened}` };
}

function appCommand(override: string | undefined): string[] {
  const app: string =
    override ??
    JSON.parse(readFileSync(path.join(PROJECT_ROOT, "cdktf.json"), "utf8")).app;
  const command = app.trim().split(/\s+/);
  if (command[command.length - 1] !== "main.ts") {
    throw new Error(
      `the app command must end in main.ts, so the minimal app can take its place: "${app}"`,
    );
  }
  return command;
}

function runOnce(benchCase: Case, outdir: string, timeFile: string): Sample {
  rmSync(outdir, { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir };
  if (benchCase.config) {
    env.PROVEIT_CONFIG = benchCase.config;
  }
  const start = performance.now();
  const result = spawnSync(
    GNU_TIME,
    ["-f", "%U %S %M", "-o", timeFile, ...benchCase.command],
    {
      cwd: PROJECT_ROOT,
      env,
      encoding: "utf8",
      timeout: 300_000,
    },
  );
  const wallSeconds = (performance.now() - start) / 1000;
  if (result.error || result.status !== 0) {
    throw new Error(
      `${benchCase.name} failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr}`,
    );
  }
  const [user, system, maxRssKiB] = readFileSync(timeFile, "utf8")
    .trim()
    .split("\n")
    .pop()!
    .split(" ")
    .map(Number);
  return {
    wallSeconds,
    cpuSeconds: user + system,
    maxRssMiB: maxRssKiB / 1024,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      app: { type: "string" },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new Error(`--runs must be a positive integer, got "${values.runs}"`);
  }
  if (!existsSync(GNU_TIME)) {
    throw new Error(
      `${GNU_TIME} not found; install GNU time (Debian package "time") for CPU time and peak memory`,
    );
  }

  const command = appCommand(values.app);
  const loadBefore = loadavg();
  const work = mkdtempSync(path.join(tmpdir(), "proveit-bench-"));
  try {
    const mes100 = writeMes100Config(work);
    const cases: Case[] = [
      {
        name: "minimal",
        command: [...command.slice(0, -1), MINIMAL_APP],
        check: (outdir) => expectStacks(outdir, 1),
      },
      {
        name: "full",
        command,
        config: FULL_CONFIG,
        check: (outdir) => expectStacks(outdir, 8),
      },
      {
        name: "mes-100",
        command,
        config: mes100.file,
        check: (outdir) => {
          const frontends = countFrontends(outdir);
          if (frontends !== FRONTEND_REPLICAS) {
            throw new Error(
              `expected ${FRONTEND_REPLICAS} MES frontends, found ${frontends}`,
            );
          }
        },
      },
    ];

    const samples = new Map<string, Sample[]>(
      cases.map((benchCase) => [benchCase.name, []]),
    );
    for (let round = 0; round <= runs; round += 1) {
      for (const benchCase of cases) {
        const outdir = path.join(work, `${benchCase.name}.out`);
        const sample = runOnce(benchCase, outdir, path.join(work, "time.txt"));
        if (round === 0) {
          benchCase.check(outdir);
        } else {
          samples.get(benchCase.name)!.push(sample);
        }
      }
    }

    const medians = new Map(
      cases.map((benchCase) => {
        const caseSamples = samples.get(benchCase.name)!;
        return [
          benchCase.name,
          {
            wall: median(caseSamples.map((sample) => sample.wallSeconds)),
            cpu: median(caseSamples.map((sample) => sample.cpuSeconds)),
            rss: median(caseSamples.map((sample) => sample.maxRssMiB)),
            walls: caseSamples
              .map((sample) => sample.wallSeconds.toFixed(2))
              .join(", "),
          },
        ];
      }),
    );

    console.log(
      `machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    );
    console.log(
      `app command: ${command.join(" ")}; ${runs} measured runs per case after one warm-up; ${mes100.note}`,
    );
    console.log(
      `load average before: ${loadBefore.map((load) => load.toFixed(2)).join(" ")}, after: ${loadavg()
        .map((load) => load.toFixed(2))
        .join(" ")}`,
    );
    console.log("");
    console.log(
      "| case | median wall (s) | median CPU (s) | median peak RSS (MiB) | wall of each run (s) |",
    );
    console.log("| --- | --- | --- | --- | --- |");
    for (const benchCase of cases) {
      const result = medians.get(benchCase.name)!;
      console.log(
        `| ${benchCase.name} | ${result.wall.toFixed(2)} | ${result.cpu.toFixed(2)} | ${result.rss.toFixed(0)} | ${result.walls} |`,
      );
    }

    const fullOverMinimal =
      medians.get("full")!.wall / medians.get("minimal")!.wall;
    const mes100OverFull =
      medians.get("mes-100")!.wall / medians.get("full")!.wall;
    const verdict = (ratio: number, goal: number) =>
      ratio <= goal ? "met" : "missed";
    console.log("");
    console.log(
      `full / minimal wall: ${fullOverMinimal.toFixed(2)} (goal at most ${GOALS.fullOverMinimal}: ${verdict(fullOverMinimal, GOALS.fullOverMinimal)})`,
    );
    console.log(
      `mes-100 / full wall: ${mes100OverFull.toFixed(2)} (goal at most ${GOALS.mes100OverFull}: ${verdict(mes100OverFull, GOALS.mes100OverFull)})`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
