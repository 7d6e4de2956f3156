import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runSynth } from "../../lib/cli/synth";
import { DEFAULT_CONFIG, PROJECT_ROOT } from "../support/synth";

describe("synth command", () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "proveit-command-"));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("flat hostnames say no pack is needed", () => {
    const config = path.join(root, "flat.yaml");
    writeFileSync(
      config,
      readFileSync(DEFAULT_CONFIG, "utf8").replace(
        "hostnames: nested",
        "hostnames: flat",
      ),
    );
    let info = "";
    const exitCode = runSynth({
      projectRoot: PROJECT_ROOT,
      environment: {
        PROVEIT_CONFIG: config,
        CDKTF_OUTDIR: path.join(root, "cdktf.out"),
      },
      infoOutput: { write: (text: string) => (info += text) },
    });
    expect(exitCode).toBe(0);
    expect(info).toMatch(
      /^\[info\] core: No Advanced Certificate Manager pack is ordered/m,
    );
  });

  test("nested hostnames name the add-on", () => {
    let info = "";
    const exitCode = runSynth({
      projectRoot: PROJECT_ROOT,
      environment: {
        PROVEIT_CONFIG: DEFAULT_CONFIG,
        CDKTF_OUTDIR: path.join(root, "nested.out"),
      },
      infoOutput: { write: (text: string) => (info += text) },
    });
    expect(exitCode).toBe(0);
    const lines = info.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `Synthesized 4 stacks into ${path.relative(process.cwd(), path.join(root, "nested.out", "stacks"))}: analytics, core, mes, scada`,
    );
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        /^\[info\] core: Core orders an Advanced Certificate Manager pack for 5 hosts/,
      ),
    ]);
  });

  test("unreachable redirect gets a warning", () => {
    const config = path.join(root, "wide.yaml");
    writeFileSync(
      config,
      readFileSync(DEFAULT_CONFIG, "utf8").replace(
        "nginx: { containerName: proveit-mes-nginx, hostPort: 8083 }",
        "nginx: { containerName: proveit-mes-nginx, hostPort: { port: 8083, bind: 0.0.0.0 } }",
      ),
    );
    let info = "";
    runSynth({
      projectRoot: PROJECT_ROOT,
      environment: {
        PROVEIT_CONFIG: config,
        CDKTF_OUTDIR: path.join(root, "wide.out"),
      },
      infoOutput: { write: (text: string) => (info += text) },
    });
    expect(info).toMatch(
      /^\[warn\] mes: \/backend\/ on nginx port 8083 \(bound to 0\.0\.0\.0\) redirects to port 8090/m,
    );
  });

  test("dropped stack gets a warning", () => {
    const outdir = path.join(root, "dropped.out");
    const run = (config: string) => {
      let info = "";
      runSynth({
        projectRoot: PROJECT_ROOT,
        environment: { PROVEIT_CONFIG: config, CDKTF_OUTDIR: outdir },
        infoOutput: { write: (text: string) => (info += text) },
      });
      return info;
    };
    run(DEFAULT_CONFIG);
    const withoutScada = path.join(root, "without-scada.yaml");
    writeFileSync(
      withoutScada,
      readFileSync(DEFAULT_CONFIG, "utf8").replace(
        "  scada:\n",
        "  scada:\n    enabled: false\n",
      ),
    );
    expect(run(withoutScada)).toMatch(
      /^\[warning\] scada: the stack is no longer in the configuration/m,
    );
  });

  test("relative config path follows INIT_CWD", () => {
    let errors = "";
    const exitCode = runSynth({
      projectRoot: PROJECT_ROOT,
      environment: {
        PROVEIT_CONFIG: "default.yaml",
        INIT_CWD: path.join(PROJECT_ROOT, "configs"),
        CDKTF_OUTDIR: path.join(root, "init-cwd.out"),
      },
      errorOutput: { write: (text: string) => (errors += text) },
      infoOutput: { write: () => undefined },
    });
    expect(errors).toBe("");
    expect(exitCode).toBe(0);
  });
});
