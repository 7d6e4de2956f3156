import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runSynth } from "../../lib/cli/synth";
import { PROJECT_ROOT } from "../support/synth";

const FIXTURES = path.join(__dirname, "..", "fixtures");
const CORPUS = path.join(FIXTURES, "invalid-configs");

interface CorpusCase {
  readonly file: string;
  readonly expectedPath: string;
  readonly expectedValue?: unknown;
}

/** Reads the `# expect-path:` and `# expect-value:` header lines of a corpus file. */
function readCase(file: string): CorpusCase {
  const text = readFileSync(path.join(CORPUS, file), "utf8");
  const expectedPath = text.match(/^# expect-path: ?(.*)$/m)![1];
  const value = text.match(/^# expect-value: (.*)$/m);
  return value
    ? { file, expectedPath, expectedValue: JSON.parse(value[1]) }
    : { file, expectedPath };
}

const CASES = readdirSync(CORPUS)
  .filter((file) => file.endsWith(".yaml"))
  .sort()
  .map(readCase);

/** Runs the synth command on one file, in this process, and returns its exit code and messages. */
function synthesize(configFile: string): {
  exitCode: number;
  output: string;
  outdir: string;
} {
  const outdir = path.join(
    mkdtempSync(path.join(tmpdir(), "proveit-corpus-")),
    "cdktf.out",
  );
  let output = "";
  const exitCode = runSynth({
    projectRoot: PROJECT_ROOT,
    environment: { PROVEIT_CONFIG: configFile, CDKTF_OUTDIR: outdir },
    errorOutput: { write: (text: string) => (output += text) },
    infoOutput: { write: () => true },
  });
  return { exitCode, output, outdir };
}

describe("invalid configuration corpus", () => {
  const outdirs: string[] = [];

  afterAll(() => {
    for (const outdir of outdirs) {
      rmSync(path.dirname(outdir), { recursive: true, force: true });
    }
  });

  test("holds at least 60 files", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  test("base configuration synthesizes", () => {
    const result = synthesize(path.join(FIXTURES, "corpus-base.yaml"));
    outdirs.push(result.outdir);
    expect(result.output).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test.each(CASES)(
    "$file is rejected",
    ({ file, expectedPath, expectedValue }) => {
      const configFile = path.join(CORPUS, file);
      const result = synthesize(configFile);
      outdirs.push(result.outdir);

      expect(result.exitCode).toBe(1);
      expect(existsSync(result.outdir)).toBe(false);
      expect(result.output).toContain(configFile);
      expect(result.output).not.toMatch(/^\s+at /m);
      expect(result.output).toContain("Fix: ");
      if (expectedPath !== "") {
        expect(result.output).toMatch(
          new RegExp(`:\\d+:\\d+ ${escape(expectedPath)}( |\\n)`),
        );
      }
      if (expectedValue !== undefined) {
        expect(result.output).toContain(
          `${expectedPath} = ${JSON.stringify(expectedValue)}`,
        );
      }
    },
  );
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
