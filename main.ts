import * as path from "node:path";
import { App } from "cdktf";
import { CONFIG_ENV, ConfigError, loadDeployment } from "./lib";
import { buildPlatform } from "./lib/stacks/platform";

const projectRoot = __dirname;
// A relative PROVEIT_CONFIG is taken from the folder the command runs in; the default from the project.
const configFile = process.env[CONFIG_ENV] || path.relative(process.cwd(), path.join(projectRoot, "configs", "default.yaml"));

try {
  const deployment = loadDeployment(configFile);
  const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? path.join(projectRoot, "cdktf.out") });
  buildPlatform(app, deployment, { projectRoot, outdir: app.outdir });
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
