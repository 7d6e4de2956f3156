import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import { ConfigError } from "../config/errors";
import { CONFIG_ENV, loadDeployment } from "../config/load";
import { buildPlatform } from "../stacks/platform";

export interface SynthCommandOptions {
  /** Folder of the cdktf project: local state and, by default, cdktf.out live there. */
  readonly projectRoot: string;
  /** @default process.env */
  readonly environment?: NodeJS.ProcessEnv;
  /** Destination of error messages. @default process.stderr */
  readonly errorOutput?: { write(text: string): unknown };
  /** Destination of the summary, notes and warnings of the synthesized stacks. @default process.stdout */
  readonly infoOutput?: { write(text: string): unknown };
}

/**
 * Prints what was written, then the notes and warnings that the constructs
 * recorded, one line each, as the cdktf CLI would.
 */
function reportSynth(
  outdir: string,
  previousStacks: readonly string[],
  output: { write(text: string): unknown },
): void {
  const manifest = JSON.parse(
    readFileSync(path.join(outdir, "manifest.json"), "utf8"),
  );
  const stacks = Object.keys(manifest.stacks);
  output.write(
    `Synthesized ${stacks.length} stacks into ${path.relative(process.cwd(), path.join(outdir, "stacks")) || "."}: ${stacks.join(", ")}\n`,
  );
  for (const [id, stack] of Object.entries<{
    annotations?: { level: string; message: string }[];
  }>(manifest.stacks)) {
    for (const annotation of stack.annotations ?? []) {
      const level = annotation.level.replace("@cdktf/", "");
      output.write(`[${level}] ${id}: ${annotation.message.trim()}\n`);
    }
  }
  for (const id of previousStacks.filter(
    (previous) => !stacks.includes(previous),
  )) {
    output.write(
      `[warning] ${id}: the stack is no longer in the configuration. If it was deployed, its containers keep running: ` +
        `destroy it with the configuration that still has it (cdktf destroy ${id}), then remove cdktf.out/stacks/${id}.\n`,
    );
  }
}

/** Stack folders that an earlier synth left in the output folder. */
function existingStacks(outdir: string): string[] {
  const folder = path.join(outdir, "stacks");
  return existsSync(folder) ? readdirSync(folder) : [];
}

/**
 * Returns the configuration file to read. A relative `PROVEIT_CONFIG` is
 * taken from the folder the user ran the command in, because npm runs
 * scripts from the project root and passes that folder as `INIT_CWD`.
 */
function configFileOf(
  environment: NodeJS.ProcessEnv,
  projectRoot: string,
): string {
  const requested = environment[CONFIG_ENV];
  if (!requested) {
    return path.relative(
      process.cwd(),
      path.join(projectRoot, "configs", "default.yaml"),
    );
  }
  if (path.isAbsolute(requested) || !environment.INIT_CWD) {
    return requested;
  }
  return path.relative(
    process.cwd(),
    path.resolve(environment.INIT_CWD, requested),
  );
}

/**
 * Validates the configuration that `PROVEIT_CONFIG` names (else
 * `configs/default.yaml` of the project) and synthesizes every enabled stack.
 * Returns the process exit code: 0 when synthesized, 1 when the configuration
 * is invalid, after printing every problem and writing nothing.
 */
export function runSynth(options: SynthCommandOptions): number {
  const environment = options.environment ?? process.env;
  const errorOutput = options.errorOutput ?? process.stderr;
  const configFile = configFileOf(environment, options.projectRoot);
  try {
    const deployment = loadDeployment(configFile, environment);
    const app = new App({
      outdir:
        environment.CDKTF_OUTDIR || path.join(options.projectRoot, "cdktf.out"),
    });
    const previousStacks = existingStacks(app.outdir);
    buildPlatform(app, deployment, {
      projectRoot: options.projectRoot,
      outdir: app.outdir,
    });
    app.synth();
    reportSynth(
      app.outdir,
      previousStacks,
      options.infoOutput ?? process.stdout,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      errorOutput.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
