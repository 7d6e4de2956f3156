/**
 * Checks every synthesized stack with Terraform: runs `terraform init
 * -backend=false` and `terraform validate` in each folder under
 * `<outdir>/stacks/`, prints one line per stack, and exits non-zero unless
 * every stack validated.
 *
 * Usage: npm run validate [-- <outdir>]
 * The output folder defaults to $CDKTF_OUTDIR, then to cdktf.out.
 *
 * `terraform init` installs the providers that each stack requires, from
 * registry.terraform.io unless the Terraform CLI configuration
 * (TF_CLI_CONFIG_FILE) names a mirror. When it cannot install them, the stack
 * is reported with the providers it is missing, never as valid.
 */
import { spawnSync, SpawnSyncReturns } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

const INIT_TIMEOUT_MS = 10 * 60_000;
const VALIDATE_TIMEOUT_MS = 5 * 60_000;

/** A provider that a stack requires, as written in its `terraform.required_providers`. */
interface RequiredProvider {
  readonly source: string;
  readonly version?: string;
}

type StackResult = "valid" | "failed" | "missing-providers";

function terraform(
  args: string[],
  cwd: string,
  timeout: number,
): SpawnSyncReturns<string> {
  return spawnSync("terraform", args, {
    cwd,
    encoding: "utf8",
    timeout,
    // CHECKPOINT_DISABLE stops Terraform's version check, which would call a HashiCorp server.
    env: {
      ...process.env,
      CHECKPOINT_DISABLE: "1",
      TF_IN_AUTOMATION: "1",
      TF_INPUT: "0",
    },
  });
}

function readRequiredProviders(stackFolder: string): RequiredProvider[] {
  const file = path.join(stackFolder, "cdk.tf.json");
  const json = JSON.parse(readFileSync(file, "utf8"));
  const required: Record<string, RequiredProvider> =
    json.terraform?.required_providers ?? {};
  return Object.values(required).map((provider) => ({
    source: provider.source,
    version: provider.version,
  }));
}

/** Lines of the `Error: …` summaries in Terraform's output, without the prefix. */
function errorSummaries(output: string): string[] {
  return output
    .split("\n")
    .map((line) => line.replace(/^[│╷╵\s]+/, ""))
    .filter((line) => line.startsWith("Error: "))
    .map((line) => line.slice("Error: ".length).trim());
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
}

function describeFailure(result: SpawnSyncReturns<string>): string {
  if (result.error) {
    return result.error.message;
  }
  if (result.signal) {
    return `terminated by ${result.signal}`;
  }
  return (
    errorSummaries(result.stderr).join("; ") || `exit code ${result.status}`
  );
}

/**
 * Providers that Terraform's error output names. Terraform prints the source
 * either short (`kreuzwerker/docker`) or with the registry host, so a match on
 * the short form covers both. Only the error output is searched, because
 * Terraform's progress lines name every provider, installed or not.
 */
function missingProviders(
  required: RequiredProvider[],
  errorOutput: string,
): RequiredProvider[] {
  const text = errorOutput.toLowerCase();
  return required.filter((provider) =>
    text.includes(provider.source.toLowerCase()),
  );
}

function formatProvider(provider: RequiredProvider): string {
  return provider.version
    ? `${provider.source} ${provider.version}`
    : provider.source;
}

function validateStack(id: string, folder: string): StackResult {
  const init = terraform(
    ["init", "-backend=false", "-input=false", "-no-color"],
    folder,
    INIT_TIMEOUT_MS,
  );
  if (init.error || init.status !== 0) {
    const missing = init.error
      ? []
      : missingProviders(readRequiredProviders(folder), init.stderr);
    if (missing.length > 0) {
      const reason = errorSummaries(init.stderr)[0] ?? "terraform init failed";
      console.log(
        `${id}: missing providers ${missing.map(formatProvider).join(", ")}: terraform init could not install them (${reason})`,
      );
      return "missing-providers";
    }
    console.log(`${id}: terraform init failed: ${describeFailure(init)}`);
    if (init.stderr) {
      console.log(indent(init.stderr));
    }
    return "failed";
  }

  const validate = terraform(
    ["validate", "-no-color"],
    folder,
    VALIDATE_TIMEOUT_MS,
  );
  if (validate.error || validate.status !== 0) {
    console.log(`${id}: invalid: ${describeFailure(validate)}`);
    if (validate.stderr) {
      console.log(indent(validate.stderr));
    }
    return "failed";
  }
  console.log(`${id}: valid`);
  return "valid";
}

function listStacks(stacksFolder: string): string[] {
  if (!existsSync(stacksFolder)) {
    return [];
  }
  return readdirSync(stacksFolder)
    .filter(
      (entry) =>
        existsSync(path.join(stacksFolder, entry, "cdk.tf.json")) &&
        statSync(path.join(stacksFolder, entry)).isDirectory(),
    )
    .sort();
}

function main(): number {
  const outdir = path.resolve(
    process.argv[2] ?? process.env.CDKTF_OUTDIR ?? "cdktf.out",
  );
  const stacksFolder = path.join(outdir, "stacks");
  const stacks = listStacks(stacksFolder);
  if (stacks.length === 0) {
    console.error(
      `no synthesized stacks in ${stacksFolder}: run \`npm run synth\` first, or pass the output folder as the argument`,
    );
    return 1;
  }

  const version = terraform(["version"], outdir, 30_000);
  if (version.error || version.status !== 0) {
    console.error(
      `terraform did not run (${describeFailure(version)}): install Terraform and put it on PATH`,
    );
    return 1;
  }

  const results = new Map(
    stacks.map((id) => [id, validateStack(id, path.join(stacksFolder, id))]),
  );
  const failed = stacks.filter((id) => results.get(id) !== "valid");
  if ([...results.values()].includes("missing-providers")) {
    console.log(
      "Terraform installs providers from registry.terraform.io, or from the mirror that the CLI configuration in " +
        'TF_CLI_CONFIG_FILE names; see "Validate the synthesized Terraform" in the README.',
    );
  }
  if (failed.length > 0) {
    console.log(
      `${failed.length} of ${stacks.length} stacks failed: ${failed.join(", ")}`,
    );
    return 1;
  }
  console.log(`all ${stacks.length} stacks are valid`);
  return 0;
}

process.exitCode = main();
