import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT } from "../support/synth";

const TSX_CLI = require.resolve("tsx/cli");

/**
 * A copy of the project's app (main.ts, lib, configs) in a temporary folder,
 * with node_modules linked, so that running the app writes cdktf.out and
 * nothing else into the copy, never into the repository.
 */
function copyProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), "proveit-app-"));
  for (const entry of [
    "main.ts",
    "lib",
    "configs",
    "package.json",
    "tsconfig.json",
    "cdktf.json",
  ]) {
    cpSync(path.join(PROJECT_ROOT, entry), path.join(root, entry), {
      recursive: true,
    });
  }
  symlinkSync(
    path.join(PROJECT_ROOT, "node_modules"),
    path.join(root, "node_modules"),
    "dir",
  );
  return root;
}

function runApp(
  cwd: string,
  root: string,
  environment: NodeJS.ProcessEnv = {},
) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...environment,
  };
  return spawnSync(process.execPath, [TSX_CLI, path.join(root, "main.ts")], {
    cwd,
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
}

function readStacks(root: string): Record<string, string> {
  const manifest = JSON.parse(
    readFileSync(path.join(root, "cdktf.out", "manifest.json"), "utf8"),
  );
  const stacks: Record<string, string> = {};
  for (const [id, stack] of Object.entries<{ synthesizedStackPath: string }>(
    manifest.stacks,
  )) {
    stacks[id] = readFileSync(
      path.join(root, "cdktf.out", stack.synthesizedStackPath),
      "utf8",
    );
  }
  return stacks;
}

describe("main.ts", () => {
  let root: string;

  beforeAll(() => {
    root = copyProject();
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  test("default synth writes four stacks", () => {
    const result = runApp(root, root);
    expect(result.status).toBe(0);
    expect(Object.keys(readStacks(root)).sort()).toEqual([
      "analytics",
      "core",
      "mes",
      "scada",
    ]);
  });

  test("synth from a subfolder matches root", () => {
    const fromRoot = readStacks(root);
    rmSync(path.join(root, "cdktf.out"), { recursive: true, force: true });
    const result = runApp(path.join(root, "lib"), root);
    expect(result.status).toBe(0);
    expect(existsSync(path.join(root, "lib", "cdktf.out"))).toBe(false);
    expect(readStacks(root)).toEqual(fromRoot);
  });

  test("output holds no path of this machine", () => {
    for (const [id, json] of Object.entries(readStacks(root))) {
      expect({ id, hasRoot: json.includes(root) }).toEqual({
        id,
        hasRoot: false,
      });
      expect({
        id,
        hasTmp: json.includes(path.join(tmpdir(), "proveit-")),
      }).toEqual({ id, hasTmp: false });
    }
  });

  test("full configuration writes eight stacks", () => {
    const result = runApp(root, root, { PROVEIT_CONFIG: "configs/full.yaml" });
    expect(result.status).toBe(0);
    expect(Object.keys(readStacks(root)).sort()).toEqual([
      "analytics",
      "core",
      "edge",
      "historian",
      "mes",
      "monitoring",
      "scada",
      "utility",
    ]);
  });

  test("synth needs no Terraform on PATH", () => {
    // A folder with only node in it: a construct that runs `terraform version` at synth fails here.
    const bin = path.join(root, "node-only-bin");
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, "node"));
    const result = runApp(root, root, { PATH: bin });
    expect(result.stderr).not.toContain("terraform");
    expect(result.status).toBe(0);
  });

  test("invalid configuration exits cleanly", () => {
    const bad = path.join(root, "bad");
    mkdirSync(bad);
    const defaultText = readFileSync(
      path.join(root, "configs", "default.yaml"),
      "utf8",
    );
    writeFileSync(
      path.join(bad, "clash.yaml"),
      defaultText
        .replace("hostPort: 8084", "hostPort: 8080")
        .replace("domain: example.com", "domain: example..com"),
    );
    const result = runApp(bad, root, { PROVEIT_CONFIG: "clash.yaml" });

    expect(result.status).toBe(1);
    expect(result.stderr).toContain("clash.yaml");
    expect(result.stderr).toContain("stacks.scada.nginx.hostPort = 8080");
    expect(result.stderr).toContain("proveit-core-nginx");
    expect(result.stderr).toContain('domain = "example..com"');
    expect(result.stderr).toContain("Fix:");
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(bad, "cdktf.out"))).toBe(false);
  });

  test("missing configuration file exits cleanly", () => {
    const result = runApp(root, root, { PROVEIT_CONFIG: "configs/nope.yaml" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("configs/nope.yaml");
    expect(result.stderr).toContain("does not exist");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
