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
    writeFileSync(config, readFileSync(DEFAULT_CONFIG, "utf8").replace("hostnames: nested", "hostnames: flat"));
    let info = "";
    const exitCode = runSynth({
      projectRoot: PROJECT_ROOT,
      environment: { PROVEIT_CONFIG: config, CDKTF_OUTDIR: path.join(root, "cdktf.out") },
      infoOutput: { write: (text: string) => (info += text) },
    });
    expect(exitCode).toBe(0);
    expect(info).toMatch(/^\[info\] core: No Advanced Certificate Manager pack is ordered/m);
  });

  test("nested hostnames print no notes", () => {
    let info = "";
    const exitCode = runSynth({
      projectRoot: PROJECT_ROOT,
      environment: { PROVEIT_CONFIG: DEFAULT_CONFIG, CDKTF_OUTDIR: path.join(root, "nested.out") },
      infoOutput: { write: (text: string) => (info += text) },
    });
    expect(exitCode).toBe(0);
    expect(info).toBe("");
  });
});
