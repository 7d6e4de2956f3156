import * as path from "node:path";
import { App } from "cdktf";
import { CONFIG_ENV, ConfigError, loadDeployment } from "./lib";
import { buildPlatform } from "./lib/stacks/platform";

const projectRoot = __dirname;
// A relative PROVEIT_CONFIG is taken from the folder the command runs in; the default from the project.
const configFile = process.env[CONFIG_ENV] || path.relative(process.cwd(), path.join(projectRoot, "configs", "default.yaml"));

try {
  // cdktf records a stack trace for every token and nested block it creates, and with source maps
  // on (tsx turns them on) Node maps each frame of each trace: a large share of a full synth (see
  // docs/benchmarks.md). They stay off while the app builds and synthesizes. V8 formats an error's
  // stack when it is first read, so turning them back on in the handler below still prints an
  // unexpected error's stack with TypeScript line numbers.
  process.setSourceMapsEnabled(false);
  const deployment = loadDeployment(configFile);
  const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? path.join(projectRoot, "cdktf.out") });
  buildPlatform(app, deployment, { projectRoot, outdir: app.outdir });
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  process.setSourceMapsEnabled(true);
  throw error;
}
