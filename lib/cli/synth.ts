import { readFileSync } from "node:fs";
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
  /** Where messages go. @default process.stderr */
  readonly errorOutput?: { write(text: string): unknown };
  /** Where notes and warnings of the synthesized stacks go. @default process.stdout */
  readonly infoOutput?: { write(text: string): unknown };
}

/** Prints the notes and warnings that the constructs recorded, one line each, as the cdktf CLI would. */
function reportAnnotations(outdir: string, output: { write(text: string): unknown }): void {
  const manifest = JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8"));
  for (const [id, stack] of Object.entries<{ annotations?: { level: string; message: string }[] }>(manifest.stacks)) {
    for (const annotation of stack.annotations ?? []) {
      const level = annotation.level.replace("@cdktf/", "");
      output.write(`[${level}] ${id}: ${annotation.message.trim()}\n`);
    }
  }
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
  // A relative PROVEIT_CONFIG is taken from the folder the command runs in; the default from the project.
  const configFile =
    environment[CONFIG_ENV] || path.relative(process.cwd(), path.join(options.projectRoot, "configs", "default.yaml"));
  try {
    const deployment = loadDeployment(configFile, environment);
    const app = new App({ outdir: environment.CDKTF_OUTDIR || path.join(options.projectRoot, "cdktf.out") });
    buildPlatform(app, deployment, { projectRoot: options.projectRoot, outdir: app.outdir });
    app.synth();
    reportAnnotations(app.outdir, options.infoOutput ?? process.stdout);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      errorOutput.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
