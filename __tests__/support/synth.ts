import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { loadDeployment, parseDeployment } from "../../lib/config/load";
import type { Deployment } from "../../lib/config/model";
import {
  SynthesizedStack,
  synthesizeDeployment,
} from "../../lib/stacks/synthesize";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const DEFAULT_CONFIG = path.join(
  PROJECT_ROOT,
  "configs",
  "default.yaml",
);
export const FULL_CONFIG = path.join(PROJECT_ROOT, "configs", "full.yaml");

/** Synthesized Terraform JSON of one stack. */
export type StackJson = SynthesizedStack;

export interface SynthResult {
  /** Stand-in project folder: local state goes to `<root>/terraform-state`. */
  readonly root: string;
  /** `<root>/cdktf.out`. */
  readonly outdir: string;
  readonly deployment: Deployment;
  readonly stacks: Record<string, StackJson>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly manifest: Record<string, any>;
  /** Removes the output folder. */
  cleanup(): void;
}

/**
 * Synthesizes a deployment into `cdktf.out` of a fresh temporary folder that
 * replaces the project, and reads every stack's JSON back.
 */
export function synthDeployment(deployment: Deployment): SynthResult {
  const root = mkdtempSync(path.join(tmpdir(), "proveit-synth-"));
  const { outdir, manifest, stacks } = synthesizeDeployment(deployment, root);
  return {
    root,
    outdir,
    deployment,
    stacks,
    manifest,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export function synthConfigFile(
  file: string,
  environment: NodeJS.ProcessEnv = {},
): SynthResult {
  return synthDeployment(loadDeployment(file, environment));
}

export function synthConfigText(
  text: string,
  environment: NodeJS.ProcessEnv = {},
): SynthResult {
  return synthDeployment(parseDeployment(text, "test.yaml", environment));
}

/** Returns every resource of a type in a stack, by logical id. */
export function resourcesOfType(
  stack: StackJson,
  type: string,
): Record<string, StackJson> {
  return stack.resource?.[type] ?? {};
}

/** Returns the docker_container resource with the given container name. */
export function containerNamed(
  stack: StackJson,
  name: string,
): StackJson | undefined {
  return Object.values(resourcesOfType(stack, "docker_container")).find(
    (container) => container.name === name,
  );
}
