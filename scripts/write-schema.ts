/**
 * Writes configs/schema.json from the configuration schema, so editors with
 * a YAML language server complete and check the files under configs/.
 * A test fails when the committed file is out of date.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { renderJsonSchema } from "../lib/config/json-schema";

const target = path.join(__dirname, "..", "configs", "schema.json");
writeFileSync(target, renderJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
