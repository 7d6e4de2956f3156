import * as path from "node:path";
import {
  CloudBackend,
  LocalBackend,
  NamedCloudWorkspace,
  TerraformStack,
} from "cdktf";
import type { BackendSettings } from "../config/model";

/** Folders of a deployment's project, which contains the local state, and of its synthesized stacks. */
export interface BackendLocation {
  /** Folder of the project; local state files live below it. */
  readonly projectRoot: string;
  /** Folder cdktf synthesizes into; each stack's Terraform runs in `<outdir>/stacks/<id>`. */
  readonly outdir: string;
}

/**
 * Configures the stack's backend.
 *
 * Local state is written as a path relative to the stack's own folder under
 * `<outdir>/stacks/`, where Terraform runs, so the synthesized JSON contains no
 * absolute path of the machine that ran synth, and the producing stack's
 * backend and a consuming stack's remote-state lookup name the same file.
 * Terraform Cloud gets one named workspace per stack, which cross-stack
 * references need.
 */
export function configureBackend(
  stack: TerraformStack,
  stackId: string,
  settings: BackendSettings,
  location: BackendLocation,
): void {
  if (settings.type === "local") {
    const stackFolder = path.resolve(location.outdir, "stacks", stackId);
    const stateFile = path.resolve(
      location.projectRoot,
      settings.directory,
      `${stackId}.tfstate`,
    );
    new LocalBackend(stack, {
      path: path.relative(stackFolder, stateFile).split(path.sep).join("/"),
    });
    return;
  }
  new CloudBackend(stack, {
    hostname: settings.hostname,
    organization: settings.organization,
    workspaces: new NamedCloudWorkspace(
      `${settings.workspacePrefix}${stackId}`,
      settings.project,
    ),
  });
}
