import { readFileSync } from "node:fs";
import * as path from "node:path";
import { App } from "cdktf";
import type { Deployment } from "../config/model";
import { buildPlatform } from "./platform";

/** Synthesized Terraform JSON of one stack. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SynthesizedStack = Record<string, any>;

export interface SynthesizedDeployment {
  /** `<projectRoot>/cdktf.out`. */
  readonly outdir: string;
  /** Contents of `cdktf.out/manifest.json`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly manifest: Record<string, any>;
  /** Each stack's JSON by stack id. */
  readonly stacks: Record<string, SynthesizedStack>;
}

/**
 * Synthesizes every stack of the deployment into `<projectRoot>/cdktf.out`,
 * with local state under `projectRoot`, and reads the JSON back.
 */
export function synthesizeDeployment(
  deployment: Deployment,
  projectRoot: string,
): SynthesizedDeployment {
  const outdir = path.join(projectRoot, "cdktf.out");
  const app = new App({ outdir });
  buildPlatform(app, deployment, { projectRoot, outdir });
  app.synth();
  const manifest = JSON.parse(
    readFileSync(path.join(outdir, "manifest.json"), "utf8"),
  );
  const stacks: Record<string, SynthesizedStack> = {};
  for (const [id, stack] of Object.entries<{ synthesizedStackPath: string }>(
    manifest.stacks,
  )) {
    stacks[id] = JSON.parse(
      readFileSync(path.join(outdir, stack.synthesizedStackPath), "utf8"),
    );
  }
  return { outdir, manifest, stacks };
}
