/**
 * A one-node Slurm cluster on this machine, for the test suite and for trying
 * `sweep slurm` on a laptop: installs Debian's `slurmctld slurmd slurm-client munge`
 * where missing (as root), starts munged, slurmctld and slurmd without systemd with
 * all state, sockets and logs in one folder, waits until the node is idle, and stops
 * them again.
 *
 * ```sh
 * deno task cluster up       # prints `export SLURM_CONF=…` for the client commands
 * deno task cluster status
 * deno task cluster down
 * ```
 *
 * @module
 */
import { UserError } from "../errors.ts";
import { processAlive } from "./state.ts";

/** A started cluster. */
export interface Cluster {
  /** The folder with its configuration, state and logs. */
  dir: string;
  /** Path of slurm.conf: client commands need it as `SLURM_CONF`. */
  conf: string;
  /** The node's name. */
  node: string;
  /** Environment for client commands (`SLURM_CONF`). */
  env: Record<string, string>;
}

/** The packages the cluster needs and a program each provides. */
const PACKAGES = {
  slurmctld: "slurmctld",
  slurmd: "slurmd",
  "slurm-client": "sbatch",
  munge: "munged",
};

/** The default cluster folder of `deno task cluster`. */
export const DEFAULT_CLUSTER_DIR = `${Deno.env.get("TMPDIR") ?? "/tmp"}/sketchpinn-slurm`;

async function run(cmd: string, args: string[], env?: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout).trim(), stderr: dec.decode(r.stderr).trim() };
}

/** A program's path: on PATH, or in the sbin folders a user's PATH may lack. */
async function which(program: string): Promise<string | undefined> {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"];
  for (const d of dirs) {
    if (d && await Deno.stat(`${d}/${program}`).then((s) => s.isFile, () => false)) {
      return `${d}/${program}`;
    }
  }
  return undefined;
}

/** Installs the Slurm and munge packages with apt-get where a program is missing. */
export async function installSlurm(log: (s: string) => void = () => {}): Promise<void> {
  const missing: string[] = [];
  for (const [pkg, prog] of Object.entries(PACKAGES)) if (!await which(prog)) missing.push(pkg);
  if (missing.length === 0) return;
  const uid = (await run("id", ["-u"])).stdout;
  if (uid !== "0") {
    throw new UserError(
      "slurm",
      `Slurm is not installed (${
        missing.join(", ")
      } missing); run \`sudo apt-get install -y --no-install-recommends ${
        Object.keys(PACKAGES).join(" ")
      }\` first.`,
    );
  }
  log(`installing ${missing.join(", ")} with apt-get`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const update = await run("apt-get", ["update"], env);
  const install = update.code === 0
    ? await run("apt-get", [
      "install",
      "-y",
      "--no-install-recommends",
      ...Object.keys(PACKAGES),
    ], env)
    : update;
  if (install.code !== 0) {
    throw new Error(`apt-get failed to install Slurm:\n${install.stderr || install.stdout}`);
  }
}

/** A free pair of TCP ports (slurmctld, slurmd), from /proc/net/tcp where it exists. */
async function freePorts(): Promise<[number, number]> {
  const text = await Deno.readTextFile("/proc/net/tcp").catch(() => "") +
    await Deno.readTextFile("/proc/net/tcp6").catch(() => "");
  const used = new Set(
    [...text.matchAll(/^\s*\d+:\s+[0-9A-F]+:([0-9A-F]{4})/gm)].map((m) => parseInt(m[1], 16)),
  );
  for (;;) {
    const p = 20000 + 2 * Math.floor(Math.random() * 10000);
    if (!used.has(p) && !used.has(p + 1)) return [p, p + 1];
  }
}

/** slurm.conf for one node with `cpus` CPUs, everything under `dir`. */
function slurmConf(dir: string, node: string, cpus: number, user: string, ports: number[]) {
  return `# One-node cluster written by sketchpinn's src/sweep/cluster.ts.
ClusterName=sketchpinn
SlurmctldHost=${node}(127.0.0.1)
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${dir}/munge/munge.socket
SlurmUser=${user}
SlurmdUser=${user}
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Without it a lone job waits ~3 s for the scheduler.
SchedulerParameters=batch_sched_delay=0
MailProg=/bin/true
MpiDefault=none
ReturnToService=2
KillWait=10
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN
PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP
`;
}

async function readPid(path: string): Promise<number | undefined> {
  const t = await Deno.readTextFile(path).catch(() => "");
  return /^\d+$/.test(t.trim()) ? Number(t.trim()) : undefined;
}

async function waitFor(what: string, ok: () => Promise<boolean>, seconds: number, dir: string) {
  const end = performance.now() + seconds * 1000;
  while (!await ok()) {
    if (performance.now() > end) {
      throw new Error(
        `The one-node Slurm cluster in ${dir}: ${what} within ${seconds} s; see its logs there.`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a one-node cluster with its state in `dir` (created; anything from an earlier
 * cluster there is stopped first); returns once the node is idle.
 */
export async function startCluster(
  dir: string,
  o: { cpus?: number; log?: (s: string) => void } = {},
): Promise<Cluster> {
  await installSlurm(o.log);
  await stopCluster(dir);
  for (const d of ["munge", "state", "spool"]) await Deno.mkdir(`${dir}/${d}`, { recursive: true });
  // munged refuses a socket whose folders others cannot enter ("Socket is inaccessible").
  await Deno.chmod(dir, 0o755);
  await Deno.chmod(`${dir}/munge`, 0o755);
  const abs = await Deno.realPath(dir);
  for (let p = abs.slice(0, abs.lastIndexOf("/")); p; p = p.slice(0, p.lastIndexOf("/"))) {
    if (((await Deno.stat(p)).mode ?? 0o777) & 0o001) continue;
    throw new UserError(
      dir,
      `munged needs every folder above its socket to be enterable by all, and ${p} is not; put the cluster folder elsewhere or chmod o+x ${p}.`,
    );
  }
  const key = crypto.getRandomValues(new Uint8Array(1024));
  await Deno.writeFile(`${dir}/munge/munge.key`, key, { mode: 0o600 });
  const node = (await run("hostname", ["-s"])).stdout || "localhost";
  const user = (await run("id", ["-un"])).stdout;
  const cpus = o.cpus ?? navigator.hardwareConcurrency;
  const conf = `${dir}/slurm.conf`;
  await Deno.writeTextFile(conf, slurmConf(dir, node, cpus, user, await freePorts()));
  const munged = await run((await which("munged"))!, [
    `--socket=${dir}/munge/munge.socket`,
    `--pid-file=${dir}/munge/munged.pid`,
    `--log-file=${dir}/munge/munged.log`,
    `--key-file=${dir}/munge/munge.key`,
    `--seed-file=${dir}/munge/munged.seed`,
  ]);
  if (munged.code !== 0) throw new Error(`munged did not start: ${munged.stderr}`);
  // Without -D both daemons fork and return once their pid files are written.
  for (const daemon of ["slurmctld", "slurmd"]) {
    const r = await run((await which(daemon))!, ["-f", conf]);
    if (r.code !== 0) {
      throw new Error(`${daemon} did not start: ${r.stderr}; see ${dir}/${daemon}.log.`);
    }
  }
  const env = { SLURM_CONF: conf };
  await waitFor(
    "the node did not become idle",
    async () => {
      const r = await run("sinfo", ["-h", "-n", node, "-o", "%t"], env);
      return r.code === 0 && r.stdout === "idle";
    },
    30,
    dir,
  );
  return { dir, conf, node, env };
}

/** Cancels the cluster's jobs and stops its daemons; a cluster that is not running is fine. */
export async function stopCluster(dir: string): Promise<void> {
  const conf = `${dir}/slurm.conf`;
  const ctld = await readPid(`${dir}/slurmctld.pid`);
  if (ctld && await processAlive(ctld)) {
    await run("scancel", ["--full", "--user", (await run("id", ["-un"])).stdout], {
      SLURM_CONF: conf,
    });
  }
  for (const f of ["slurmd.pid", "slurmctld.pid", "munge/munged.pid"]) {
    const pid = await readPid(`${dir}/${f}`);
    if (!pid || !await processAlive(pid)) continue;
    Deno.kill(pid, "SIGTERM");
    // Stopped daemons can stay zombies for a while; processAlive counts those as gone.
    const end = performance.now() + 10_000;
    while (await processAlive(pid)) {
      if (performance.now() > end) {
        Deno.kill(pid, "SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  for (const f of ["slurmd.pid", "slurmctld.pid", "munge/munged.pid"]) {
    await Deno.remove(`${dir}/${f}`).catch(() => {});
  }
}

/** `sinfo` and `squeue` of the cluster in `dir`, or a line saying it is not running. */
export async function clusterStatus(dir: string): Promise<string> {
  const ctld = await readPid(`${dir}/slurmctld.pid`);
  if (!ctld || !await processAlive(ctld)) return `no cluster is running in ${dir}`;
  const env = { SLURM_CONF: `${dir}/slurm.conf` };
  return [(await run("sinfo", [], env)).stdout, (await run("squeue", [], env)).stdout].join("\n");
}

if (import.meta.main) {
  const [cmd, ...rest] = Deno.args;
  const dirFlag = rest.indexOf("--dir");
  const dir = dirFlag >= 0 && rest[dirFlag + 1] ? rest[dirFlag + 1] : DEFAULT_CLUSTER_DIR;
  try {
    if (cmd === "up") {
      const t0 = performance.now();
      const c = await startCluster(dir, { log: (s) => console.error(s) });
      console.error(
        `one-node Slurm cluster up in ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s (node ${c.node}); stop it with \`deno task cluster down\``,
      );
      console.log(`export SLURM_CONF=${c.conf}`);
    } else if (cmd === "down") {
      await stopCluster(dir);
      console.error(`stopped the cluster in ${dir}`);
    } else if (cmd === "status") {
      console.log(await clusterStatus(dir));
    } else {
      throw new UserError(cmd ?? "cluster", "Usage: cluster up|down|status [--dir DIR].");
    }
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    console.error(`error: ${e.message}`);
    Deno.exit(2);
  }
}
