import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import { loadDeployment, parseDeployment } from "../../lib/config/load";
import type { Deployment } from "../../lib/config/model";
import { buildPlatform } from "../../lib/stacks/platform";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const DEFAULT_CONFIG = path.join(PROJECT_ROOT, "configs", "default.yaml");
export const FULL_CONFIG = path.join(PROJECT_ROOT, "configs", "full.yaml");

/** Synthesized Terraform JSON of one stack. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StackJson = Record<string, any>;

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
 * stands in for the project, and reads every stack's JSON back.
 */
export function synthDeployment(deployment: Deployment): SynthResult {
  const root = mkdtempSync(path.join(tmpdir(), "proveit-synth-"));
  const outdir = path.join(root, "cdktf.out");
  const app = new App({ outdir, skipValidation: false });
  buildPlatform(app, deployment, { projectRoot: root, outdir });
  app.synth();
  const manifest = JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8"));
  const stacks: Record<string, StackJson> = {};
  for (const [id, stack] of Object.entries<{ synthesizedStackPath: string }>(manifest.stacks)) {
    stacks[id] = JSON.parse(readFileSync(path.join(outdir, stack.synthesizedStackPath), "utf8"));
  }
  return { root, outdir, deployment, stacks, manifest, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function synthConfigFile(file: string, environment: NodeJS.ProcessEnv = {}): SynthResult {
  return synthDeployment(loadDeployment(file, environment));
}

export function synthConfigText(text: string, environment: NodeJS.ProcessEnv = {}): SynthResult {
  return synthDeployment(parseDeployment(text, "test.yaml", environment));
}

/** Every resource of a type in a stack, by logical id. */
export function resourcesOfType(stack: StackJson, type: string): Record<string, StackJson> {
  return stack.resource?.[type] ?? {};
}

/** The docker_container resource with the given container name. */
export function containerNamed(stack: StackJson, name: string): StackJson | undefined {
  return Object.values(resourcesOfType(stack, "docker_container")).find((container) => container.name === name);
}
