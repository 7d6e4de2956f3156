import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  DEFAULT_CONFIG,
  PROJECT_ROOT,
  StackJson,
  SynthResult,
  synthConfigFile,
} from "../support/synth";

const SCRIPT = path.join(PROJECT_ROOT, "scripts", "validate-stacks.ts");

function terraformInstalled(): boolean {
  const result = spawnSync("terraform", ["version"], {
    encoding: "utf8",
    env: { PATH: process.env.PATH, CHECKPOINT_DISABLE: "1" },
  });
  return !result.error && result.status === 0;
}

/** Writes a stack folder that needs only Terraform's built-in provider, so init works offline. */
function writeStack(outdir: string, id: string, json: StackJson): void {
  const folder = path.join(outdir, "stacks", id);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    path.join(folder, "cdk.tf.json"),
    JSON.stringify(json, null, 2),
  );
}

function dependsOnEntries(stack: StackJson): string[] {
  return Object.values<Record<string, StackJson>>(stack.resource ?? {}).flatMap(
    (resources) =>
      Object.values(resources).flatMap(
        (resource) => (resource.depends_on ?? []) as string[],
      ),
  );
}

const haveTerraform = terraformInstalled();
if (!haveTerraform && process.env.CI === "true") {
  throw new Error(
    "terraform is not on PATH; the CI machine image must provide Terraform for the validate tests",
  );
}
const describeWithTerraform = haveTerraform ? describe : describe.skip;

let synth: SynthResult;

beforeAll(() => {
  synth = synthConfigFile(DEFAULT_CONFIG);
});

afterAll(() => {
  synth?.cleanup();
});

test("depends_on holds static references", () => {
  for (const [id, stack] of Object.entries(synth.stacks)) {
    const templated = dependsOnEntries(stack).filter((entry) =>
      entry.includes("${"),
    );
    expect({ id, templated }).toEqual({ id, templated: [] });
  }
});

describeWithTerraform("validate-stacks script", () => {
  let sandbox: string;
  let env: NodeJS.ProcessEnv;

  function runValidate(outdir: string) {
    const result = spawnSync(
      process.execPath,
      ["--import", "tsx", SCRIPT, outdir],
      {
        cwd: PROJECT_ROOT,
        env,
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    return { ...result, lines: `${result.stdout}${result.stderr}`.split("\n") };
  }

  beforeAll(() => {
    sandbox = mkdtempSync(path.join(tmpdir(), "proveit-validate-"));
    const mirror = path.join(sandbox, "empty-mirror");
    const pluginCache = path.join(sandbox, "plugin-cache");
    const home = path.join(sandbox, "home");
    for (const folder of [mirror, pluginCache, home]) {
      mkdirSync(folder);
    }
    // Only an empty filesystem mirror and no `direct` block: Terraform looks nowhere else for providers.
    const cliConfig = path.join(sandbox, "terraform.rc");
    writeFileSync(
      cliConfig,
      `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\n`,
    );
    env = {
      PATH: process.env.PATH,
      HOME: home,
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_PLUGIN_CACHE_DIR: pluginCache,
      CHECKPOINT_DISABLE: "1",
    };
  });

  afterAll(() => {
    rmSync(sandbox, { recursive: true, force: true });
  });

  describe("without providers", () => {
    let result: ReturnType<typeof runValidate>;

    beforeAll(() => {
      result = runValidate(synth.outdir);
    });

    test("exits non-zero", () => {
      expect(result.status).toBe(1);
    });

    test("names missing providers per stack", () => {
      for (const id of Object.keys(synth.stacks)) {
        const lines = result.lines.filter((line) => line.startsWith(`${id}: `));
        expect({ id, lines: lines.length }).toEqual({ id, lines: 1 });
        expect(lines[0]).toContain(`${id}: missing providers`);
        expect(lines[0]).toContain("kreuzwerker/docker 3.6.2");
        expect(lines[0]).toContain("hashicorp/random");
      }
    });

    test("reports no stack as valid", () => {
      expect(result.lines.filter((line) => /: valid$/.test(line))).toEqual([]);
      expect(result.stdout).not.toContain("stacks are valid");
    });

    test("points to the mirror setup", () => {
      expect(result.stdout).toContain("TF_CLI_CONFIG_FILE");
    });
  });

  test("built-in-only stack validates", () => {
    const outdir = path.join(sandbox, "plain-out");
    writeStack(outdir, "plain", {
      resource: { terraform_data: { marker: { input: "proveit" } } },
      output: { marker: { value: "${terraform_data.marker.output}" } },
    });
    const result = runValidate(outdir);
    expect(result.lines).toContain("plain: valid");
    expect(result.status).toBe(0);
  });

  test("invalid stack fails", () => {
    const outdir = path.join(sandbox, "broken-out");
    writeStack(outdir, "broken", {
      resource: { terraform_data: { marker: { input: "proveit" } } },
      output: { marker: { value: "${terraform_data.absent.output}" } },
    });
    const result = runValidate(outdir);
    expect(
      result.lines.some((line) => line.startsWith("broken: invalid")),
    ).toBe(true);
    expect(result.stdout).toContain("terraform_data.absent");
    expect(result.status).toBe(1);
  });

  test("empty output folder fails", () => {
    const outdir = path.join(sandbox, "empty-out");
    mkdirSync(outdir);
    const result = runValidate(outdir);
    expect(result.stderr).toContain("no synthesized stacks");
    expect(result.status).toBe(1);
  });
});
