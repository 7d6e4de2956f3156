import { App } from "cdktf";
import type { Deployment } from "../config/model";
import type { BackendLocation } from "./backend";
import { PlatformStack } from "./platform-stack";

/**
 * Adds one `PlatformStack` per enabled stack of the deployment to the app,
 * core first; every other stack depends on core.
 *
 * @param location where local state lives; defaults to the app's working folder and outdir
 */
export function buildPlatform(
  app: App,
  deployment: Deployment,
  location?: BackendLocation,
): Map<string, PlatformStack> {
  const backend = location ?? {
    projectRoot: process.cwd(),
    outdir: app.outdir,
  };
  const stacks = new Map<string, PlatformStack>();
  let core: PlatformStack | undefined;
  for (const spec of deployment.stacks) {
    const stack = new PlatformStack(app, { deployment, spec, backend, core });
    if (spec.id === "core") {
      core = stack;
    }
    stacks.set(spec.id, stack);
  }
  return stacks;
}
