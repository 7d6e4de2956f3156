import { readFileSync } from "node:fs";
import * as path from "node:path";
import { renderJsonSchema } from "../../lib/config/json-schema";
import { PROJECT_ROOT } from "../support/synth";

describe("configs/schema.json", () => {
  test("matches the configuration schema", () => {
    const committed = readFileSync(
      path.join(PROJECT_ROOT, "configs", "schema.json"),
      "utf8",
    );
    // When this fails, run `npm run schema` and commit configs/schema.json.
    expect(committed).toBe(renderJsonSchema());
  });

  test("rejects unknown top-level keys", () => {
    const schema = JSON.parse(renderJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(
      expect.arrayContaining(["domain", "stacks"]),
    );
  });

  test("shipped files point editors at it", () => {
    for (const file of ["default.yaml", "full.yaml"]) {
      const text = readFileSync(
        path.join(PROJECT_ROOT, "configs", file),
        "utf8",
      );
      expect(text.split("\n")[0]).toBe(
        "# yaml-language-server: $schema=./schema.json",
      );
    }
  });
});
