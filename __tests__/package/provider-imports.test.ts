import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import { PROJECT_ROOT } from "../support/synth";

/**
 * The root index of a prebuilt provider package loads every resource module
 * of the provider. For @cdktf/provider-cloudflare 13 that is about 560
 * modules: 1.8 s and 180 MB of RSS in a fresh node process on the 2-core
 * development machine, against 0.3 s and 66 MB for one resource module.
 * Each resource has its own module under `lib/`.
 */
const PROVIDER_ROOT = /^@cdktf\/provider-[a-z0-9-]+$/;

function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

const files = [
  ...typeScriptFiles(path.join(PROJECT_ROOT, "lib")),
  path.join(PROJECT_ROOT, "main.ts"),
].map((file) => path.relative(PROJECT_ROOT, file));

test("scan finds the sources", () => {
  expect(files).toContain("main.ts");
  expect(files).toContain(path.join("lib", "index.ts"));
});

test.each(files)("%s imports providers by deep path", (file) => {
  const text = readFileSync(path.join(PROJECT_ROOT, file), "utf8");
  // preProcessFile lists import, export-from, require() and import() specifiers alike.
  const imports = ts.preProcessFile(text, true, true).importedFiles;
  const rootImports = imports
    .filter((specifier) => PROVIDER_ROOT.test(specifier.fileName))
    .map(
      (specifier) =>
        `${file}: "${specifier.fileName}"; import from "${specifier.fileName}/lib/<resource>" instead`,
    );
  expect(rootImports).toEqual([]);
});
