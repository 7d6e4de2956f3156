import { spawnSync, SpawnSyncReturns } from "node:child_process";
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
import { PROJECT_ROOT, StackJson, containerNamed } from "../support/synth";

/** Top-level entries of the working tree that are never part of a pack. */
const NOT_COPIED = new Set([
  "node_modules",
  "dist",
  "cdktf.out",
  "terraform-state",
  "coverage",
  ".git",
  "docs",
]);
const PEERS = [
  "cdktf",
  "constructs",
  "@cdktf/provider-docker",
  "@cdktf/provider-cloudflare",
  "@cdktf/provider-random",
];
const STEP_TIMEOUT_MS = 150_000;

interface PackedFile {
  readonly path: string;
}

/** A consumer's app that uses only the package's public entry points. */
const CONSUMER_APP = `import * as path from "node:path";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { App, TerraformStack } from "cdktf";
import { buildPlatform, ContainerImage, loadDeployment, ServiceContainer } from "proveit-stacks";

const app = new App({ outdir: path.join(__dirname, "cdktf.out") });
const deployment = loadDeployment(require.resolve("proveit-stacks/configs/default.yaml"), {});
buildPlatform(app, deployment, { projectRoot: __dirname, outdir: app.outdir });

const extra = new TerraformStack(app, "extra");
new DockerProvider(extra, "docker", {});
new ServiceContainer(extra, "whoami", {
  containerName: "consumer-whoami",
  image: ContainerImage.fromRegistry("traefik/whoami:v1.10.4"),
  networks: [{ name: "bridge" }],
});

app.synth();
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "node16",
    moduleResolution: "node16",
    strict: true,
    skipLibCheck: true,
    types: ["node"],
  },
  files: ["main.ts"],
};

function run(
  command: string,
  args: string[],
  cwd: string,
): SpawnSyncReturns<string> {
  // npm passes its settings to scripts as npm_* variables; the nested npm must not inherit the outer run's.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.toLowerCase().startsWith("npm_"),
    ),
  );
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: "utf8",
    timeout: STEP_TIMEOUT_MS,
  });
  if (result.error || result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed in ${cwd} (${result.error?.message ?? `exit ${result.status}`}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

function installedVersion(name: string): string {
  return JSON.parse(
    readFileSync(
      path.join(PROJECT_ROOT, "node_modules", name, "package.json"),
      "utf8",
    ),
  ).version;
}

function readJson(file: string): StackJson {
  return JSON.parse(readFileSync(file, "utf8"));
}

describe("packed library", () => {
  let sandbox: string;
  let consumer: string;
  let packed: string[];
  let manifest: StackJson;

  beforeAll(() => {
    sandbox = mkdtempSync(path.join(tmpdir(), "proveit-pack-"));

    // Pack a copy, so the build that prepack runs writes dist/ there and not into the working tree.
    const source = path.join(sandbox, "source");
    cpSync(PROJECT_ROOT, source, {
      recursive: true,
      filter: (entry) =>
        path.dirname(entry) !== PROJECT_ROOT ||
        !NOT_COPIED.has(path.basename(entry)),
    });
    symlinkSync(
      path.join(PROJECT_ROOT, "node_modules"),
      path.join(source, "node_modules"),
      "dir",
    );
    const pack = run(
      "npm",
      ["pack", "--json", "--pack-destination", sandbox],
      source,
    );
    const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("[")));
    packed = (result.files as PackedFile[]).map((file) => file.path).sort();

    consumer = path.join(sandbox, "consumer");
    mkdirSync(consumer);
    const dependencies: Record<string, string> = {
      "proveit-stacks": `file:${path.join(sandbox, result.filename)}`,
    };
    for (const name of [...PEERS, "@types/node"]) {
      dependencies[name] = installedVersion(name);
    }
    writeFileSync(
      path.join(consumer, "package.json"),
      JSON.stringify(
        { name: "consumer", private: true, dependencies },
        null,
        2,
      ),
    );
    run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund"],
      consumer,
    );

    writeFileSync(path.join(consumer, "main.ts"), CONSUMER_APP);
    writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify(CONSUMER_TSCONFIG, null, 2),
    );
    run(
      process.execPath,
      [
        path.join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        ".",
      ],
      consumer,
    );
    run(process.execPath, ["main.js"], consumer);
    manifest = readJson(path.join(consumer, "cdktf.out", "manifest.json"));
  }, 4 * STEP_TIMEOUT_MS);

  afterAll(() => {
    rmSync(sandbox, { recursive: true, force: true });
  });

  test("ships entry point and types", () => {
    expect(packed).toContain("dist/index.js");
    expect(packed).toContain("dist/index.d.ts");
    expect(packed).toContain("dist/index.js.map");
  });

  test("ships example configurations", () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        "configs/default.yaml",
        "configs/full.yaml",
        "configs/schema.json",
      ]),
    );
  });

  test("ships no sources or tests", () => {
    const unexpected = packed.filter(
      (file) =>
        !/^dist\/.+\.(js|js\.map|d\.ts)$/.test(file) &&
        !file.startsWith("configs/") &&
        !/^[^/]+\.(md|json)$/.test(file),
    );
    expect(unexpected).toEqual([]);
    expect(
      packed.filter(
        (file) => file.includes("__tests__") || file.includes("cdktf.out"),
      ),
    ).toEqual([]);
  });

  test("installs a single cdktf", () => {
    const nested = path.join(
      consumer,
      "node_modules",
      "proveit-stacks",
      "node_modules",
    );
    for (const name of PEERS) {
      expect({ name, nested: existsSync(path.join(nested, name)) }).toEqual({
        name,
        nested: false,
      });
    }
  });

  test("synthesizes platform and own stacks", () => {
    expect(Object.keys(manifest.stacks).sort()).toEqual([
      "analytics",
      "core",
      "extra",
      "mes",
      "scada",
    ]);
  });

  test("construct works in own stack", () => {
    const extra = readJson(
      path.join(
        consumer,
        "cdktf.out",
        manifest.stacks.extra.synthesizedStackPath,
      ),
    );
    const container = containerNamed(extra, "consumer-whoami");
    expect(container?.image).toMatch(/^\$\{docker_image\..+\.image_id\}$/);
    expect(container?.restart).toBe("unless-stopped");
  });

  test("core stack holds shared database", () => {
    const core = readJson(
      path.join(
        consumer,
        "cdktf.out",
        manifest.stacks.core.synthesizedStackPath,
      ),
    );
    expect(containerNamed(core, "proveit-core-pgbouncer")).toBeDefined();
  });
});
