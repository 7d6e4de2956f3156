/**
 * Starts real PostgreSQL (15 or later) and PgBouncer processes for tests, on 127.0.0.1
 * and ports picked free at run time, each in its own temporary folder, and
 * stops them again. The configuration comes from the synthesized Terraform
 * JSON; only listen addresses, ports and file paths are rewritten for the
 * local run.
 */
import {
  ChildProcess,
  execFileSync,
  spawn,
  spawnSync,
} from "node:child_process";
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

/**
 * Programs of the newest PostgreSQL that Debian's or Ubuntu's packages
 * installed (15 on Debian 12); the tests need 15 or later for psql's \getenv.
 */
export const POSTGRES_BIN = newestPostgresBin();

function newestPostgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .map(Number)
        .filter(
          (version) =>
            version >= 15 &&
            existsSync(path.join(root, String(version), "bin", "postgres")),
        )
        .sort((a, b) => b - a)
    : [];
  return path.join(root, String(versions[0] ?? 15), "bin");
}
export const PGBOUNCER_BIN = "/usr/sbin/pgbouncer";

const REQUIRED_PROGRAMS = [
  `${POSTGRES_BIN}/initdb`,
  `${POSTGRES_BIN}/postgres`,
  `${POSTGRES_BIN}/psql`,
  PGBOUNCER_BIN,
];

/** Time a server gets to start listening, in milliseconds. */
const START_TIMEOUT_MS = 30_000;

/** Programs the tests need that are not installed. */
export function missingPrograms(): string[] {
  return REQUIRED_PROGRAMS.filter((program) => !existsSync(program));
}

/**
 * `describe` when PostgreSQL and PgBouncer are installed or when running in
 * CI (where a missing program must fail the run), else `describe.skip`.
 */
export const describeWithServers: jest.Describe = chooseDescribe();

function chooseDescribe(): jest.Describe {
  const missing = missingPrograms();
  if (missing.length === 0 || process.env.CI === "true") {
    return describe;
  }
  console.warn(
    `Skipping the PostgreSQL and PgBouncer tests: ${missing.join(", ")} not installed (scripts/install-test-dependencies.sh installs them).`,
  );
  return describe.skip;
}

/** Throws when a program is missing, naming the install script. */
export function requirePrograms(): void {
  const missing = missingPrograms();
  if (missing.length > 0) {
    throw new Error(
      `Missing ${missing.join(", ")}; run scripts/install-test-dependencies.sh.`,
    );
  }
}

/** PostgreSQL and PgBouncer refuse to run as root; as root, the tests run them as the postgres user. */
function serviceUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  const uid = Number(
    execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim(),
  );
  const gid = Number(
    execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim(),
  );
  return { uid, gid };
}

/** Creates a temporary folder that the server processes may write to. */
export function makeServerDirectory(prefix: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), prefix));
  const user = serviceUser();
  if (user) {
    chownSync(directory, user.uid, user.gid);
  }
  return directory;
}

function writeServerFile(file: string, content: string): void {
  writeFileSync(file, content, { mode: 0o600 });
  const user = serviceUser();
  if (user) {
    chownSync(file, user.uid, user.gid);
  }
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/**
 * Waits until the process we started reports that it listens, by a line of
 * its own log, and the port accepts connections. The log line rules out a
 * port that some other process still holds.
 */
async function waitUntilListening(
  port: number,
  process: ChildProcess,
  ready: RegExp,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (process.exitCode !== null || process.signalCode !== null) {
      throw new Error(
        `The server exited (${process.exitCode ?? process.signalCode}) before listening on ${port}:\n${output()}`,
      );
    }
    if (ready.test(output())) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = new Socket();
        socket.once("connect", () => {
          socket.destroy();
          resolve(true);
        });
        socket.once("error", () => resolve(false));
        socket.connect(port, "127.0.0.1");
      });
      if (open) {
        return;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `Timed out after ${START_TIMEOUT_MS} ms waiting for port ${port}:\n${output()}`,
  );
}

/** A running server process with its captured output. */
export class LocalServer {
  private stopped = false;

  constructor(
    public readonly port: number,
    public readonly directory: string,
    private readonly process: ChildProcess,
    private readonly captured: string[],
  ) {}

  public get output(): string {
    return this.captured.join("");
  }

  /** Stops the process (SIGINT: a fast shutdown for both PostgreSQL and PgBouncer) and removes its folder. */
  public async stop(): Promise<void> {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    if (this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((resolve) =>
        this.process.once("exit", resolve),
      );
      this.process.kill("SIGINT");
      const timer = setTimeout(() => this.process.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function startProcess(
  program: string,
  args: string[],
  port: number,
  directory: string,
  ready: RegExp,
): Promise<LocalServer> {
  const user = serviceUser();
  const child = spawn(program, args, {
    cwd: directory,
    stdio: ["ignore", "pipe", "pipe"],
    uid: user?.uid,
    gid: user?.gid,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
  });
  const captured: string[] = [];
  child.stdout?.on("data", (chunk: Buffer) => captured.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => captured.push(chunk.toString()));
  const server = new LocalServer(port, directory, child, captured);
  return waitUntilListening(port, child, ready, () => server.output).then(
    () => server,
    async (error: Error) => {
      await server.stop();
      throw error;
    },
  );
}

/**
 * Rewrites the synthesized `postgresql.conf` for a local run: the listen
 * address, the port and the Unix socket folder. Every other line is kept.
 */
export function localPostgresConf(
  synthesized: string,
  port: number,
  socketDirectory: string,
): string {
  // NOTE: Debian packages no TimescaleDB, so its preload is left out here and the image's preload goes untested.
  const lines = synthesized
    .split("\n")
    .filter(
      (line) =>
        !/^\s*(listen_addresses|port|unix_socket_directories|shared_preload_libraries)\s*=/.test(
          line,
        ),
    );
  lines.push(
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = '${socketDirectory}'`,
    "",
  );
  return lines.join("\n");
}

/** Starts PostgreSQL 15 with the synthesized configuration and a SCRAM-protected superuser `postgres`. */
export async function startPostgres(
  synthesizedConf: string,
  superuserPassword: string,
): Promise<LocalServer> {
  const directory = makeServerDirectory("proveit-postgres-");
  const dataDirectory = path.join(directory, "data");
  const passwordFile = path.join(directory, "superuser-password");
  writeServerFile(passwordFile, superuserPassword);
  const user = serviceUser();
  execFileSync(
    `${POSTGRES_BIN}/initdb`,
    [
      "-D",
      dataDirectory,
      "-U",
      "postgres",
      "--pwfile",
      passwordFile,
      "--auth-host=scram-sha-256",
      "--auth-local=scram-sha-256",
      "-E",
      "UTF8",
      "--no-sync",
    ],
    { uid: user?.uid, gid: user?.gid, stdio: "pipe", cwd: directory },
  );
  rmSync(passwordFile);
  const port = await freePort();
  const confFile = path.join(directory, "postgresql.conf");
  writeServerFile(
    confFile,
    localPostgresConf(synthesizedConf, port, directory),
  );
  return startProcess(
    `${POSTGRES_BIN}/postgres`,
    ["-D", dataDirectory, "-c", `config_file=${confFile}`],
    port,
    directory,
    /ready to accept connections/,
  );
}

/**
 * Rewrites the synthesized `pgbouncer.ini` for a local run: the server host
 * and port of every database line, PgBouncer's own listen address and port,
 * and the path of the user list. Every other line is kept.
 */
export function localPgbouncerIni(
  synthesized: string,
  serverPort: number,
  listenPort: number,
  authFile: string,
): string {
  return synthesized
    .split("\n")
    .map((line) =>
      line.replace(/host=\S+ port=\d+/, `host=127.0.0.1 port=${serverPort}`),
    )
    .map((line) =>
      line.replace(/^listen_addr = .*$/, "listen_addr = 127.0.0.1"),
    )
    .map((line) =>
      line.replace(/^listen_port = .*$/, `listen_port = ${listenPort}`),
    )
    .map((line) => line.replace(/^auth_file = .*$/, `auth_file = ${authFile}`))
    .join("\n");
}

/** Starts PgBouncer 1.18 with the synthesized configuration and user list, in front of a local PostgreSQL. */
export async function startPgbouncer(
  synthesizedIni: string,
  userlist: string,
  serverPort: number,
): Promise<LocalServer> {
  const directory = makeServerDirectory("proveit-pgbouncer-");
  const authFile = path.join(directory, "userlist.txt");
  writeServerFile(authFile, userlist);
  const port = await freePort();
  const iniFile = path.join(directory, "pgbouncer.ini");
  writeServerFile(
    iniFile,
    localPgbouncerIni(synthesizedIni, serverPort, port, authFile),
  );
  return startProcess(
    PGBOUNCER_BIN,
    [iniFile],
    port,
    directory,
    new RegExp(`listening on 127\\.0\\.0\\.1:${port}`),
  );
}

/** Runs psql with a script file and environment, as the init container does; returns the exit code and output. */
export function runPsql(
  script: string,
  environment: Record<string, string>,
  port: number,
): { status: number; output: string } {
  const directory = mkdtempSync(path.join(tmpdir(), "proveit-psql-"));
  try {
    const scriptFile = path.join(directory, "init.sql");
    mkdirSync(path.dirname(scriptFile), { recursive: true });
    // TimescaleDB is not installed here (see localPostgresConf); every other statement runs as synthesized.
    writeFileSync(
      scriptFile,
      script.replace(
        /^CREATE EXTENSION IF NOT EXISTS timescaledb;$/gm,
        "-- timescaledb is not installed here",
      ),
    );
    const result = spawnSync(
      `${POSTGRES_BIN}/psql`,
      ["--no-psqlrc", "--set", "ON_ERROR_STOP=1", "--file", scriptFile],
      {
        env: {
          ...environment,
          PGHOST: "127.0.0.1",
          PGPORT: String(port),
          PATH: process.env.PATH ?? "/usr/bin:/bin",
        },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    return {
      status: result.status ?? -1,
      output: `${result.stdout ?? ""}${result.stderr ?? ""}`,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
