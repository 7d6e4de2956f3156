import { z } from "zod";
import { configSchema } from "./schema";

/** Returns the JSON Schema of the configuration file as formatted text. */
export function renderJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, {
    io: "input",
    target: "draft-7",
  });
  const document = {
    ...schema,
    $id: "https://proveit-stacks/configs/schema.json",
    title: "proveit-stacks deployment configuration",
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
