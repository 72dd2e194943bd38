// A private copy of Debian's/Ubuntu's oneDNN 2.x for the addon, in native/onednn/deps/ (gitignored):
// `apt-get download` fetches the .deb files (no root, installs nothing, apt checks them against the signed
// archive index) and `dpkg-deb -x` unpacks them into the project, so nothing changes for other programs.
// When the system's package lists do not know libdnnl-dev (a fresh container has none), apt reads a private
// copy of them, fetched into the same folder from the system's configured sources and removed afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The private copy's layout: include/ (headers), lib/ (libdnnl.so*, libOpenCL.so*), share/doc/ (licences), VERSION. */
export const depsLayout = (depsDir) => ({
  include: join(depsDir, 'include'),
  lib: join(depsDir, 'lib'),
  versionFile: join(depsDir, 'VERSION'),
});

/** The packages of an existing private copy ("libdnnl-dev=2.6.3-1 ..."), or undefined when there is none. */
export function existingDeps(depsDir) {
  const { include, lib, versionFile } = depsLayout(depsDir);
  if (!existsSync(join(include, 'dnnl.hpp')) || !existsSync(join(lib, 'libdnnl.so')) || !existsSync(versionFile)) return undefined;
  return readFileSync(versionFile, 'utf8').trim();
}

const APT_TIMEOUT_MS = 10 * 60 * 1000;

function run(cmd, args, log, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: APT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, ...options });
  log(`$ ${cmd} ${args.join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `${r.error}\n` : ''}`);
  return r;
}

const firstLine = (r) =>
  (`${r.stderr ?? ''}\n${r.stdout ?? ''}`.split('\n').find((l) => /^(E:|W:)|rror/.test(l)) ?? `exit ${r.status ?? r.signal}`).trim();

/** apt options that point its package lists (and their cache) at `dir` instead of /var/lib/apt. */
function privateListsOptions(dir) {
  return ['-o', `Dir::State::Lists=${join(dir, 'lists')}`, '-o', `Dir::Cache=${join(dir, 'cache')}`];
}

/** The newest 2.x version of libdnnl-dev apt offers, the package of its library, and all versions seen. */
function pickVersion(aptOptions, log) {
  const madison = run('apt-cache', [...aptOptions, 'madison', 'libdnnl-dev'], log);
  if (madison.status !== 0) return { seen: [] };
  const seen = [...madison.stdout.matchAll(/^\s*libdnnl-dev\s*\|\s*(\S+)\s*\|/gm)].map((m) => m[1]);
  // The addon uses the 2.x op-descriptor API; 3.x removed it. An epoch ("1:") may precede the upstream version.
  const version = seen.find((v) => /^(\d+:)?2\./.test(v));
  if (!version) return { seen };
  const show = run('apt-cache', [...aptOptions, 'show', '--no-all-versions', `libdnnl-dev=${version}`], log);
  const depends = /^Depends:\s*(.*)$/m.exec(show.stdout ?? '')?.[1] ?? '';
  const library = /(libdnnl[^\s,(|]*)\s*\(=/.exec(depends)?.[1];
  if (!library) return { seen };
  const libShow = run('apt-cache', [...aptOptions, 'show', '--no-all-versions', `${library}=${version}`], log);
  const libDepends = /^Depends:\s*(.*)$/m.exec(libShow.stdout ?? '')?.[1] ?? '';
  // libdnnl links the OpenCL ICD loader, which a machine without OpenCL lacks; a private copy of it is harmless
  // (the CPU engine never calls it), so it is always fetched rather than guessed present.
  const openclGroup = libDepends.split(',').find((group) => /opencl/i.test(group));
  const opencl = openclGroup ? /^\s*([^\s|(]+)/.exec(openclGroup)?.[1] : undefined;
  return { seen, version, packages: [`libdnnl-dev=${version}`, `${library}=${version}`, ...(opencl ? [opencl] : [])] };
}

/** Every directory under `dir` (inclusive) that holds a file named `name`. */
function findDirsHolding(dir, name) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === name) found.push(dir);
    else if (entry.isDirectory()) found.push(...findDirsHolding(path, name));
  }
  return found;
}

/**
 * Fetches libdnnl-dev 2.x, its library and the OpenCL loader with apt into `depsDir`, atomically (a failed
 * fetch leaves no half copy). Returns { ok: true, packages } or { ok: false, reason, fix }; `fromSource` is the fix
 * where apt cannot help.
 */
export function fetchDeps(depsDir, log, fromSource) {
  const has = (cmd) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
  if (!has('apt-get') || !has('dpkg-deb')) {
    return {
      ok: false,
      reason: 'no oneDNN 2.x installed and no apt to fetch it',
      fix: fromSource,
    };
  }
  const staging = `${depsDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'debs'), { recursive: true });
  try {
    // First the system's package lists (no download of lists); when they do not offer a 2.x libdnnl-dev, or its
    // download fails (lists older than the mirror), a private copy of the lists.
    let choice = pickVersion([], log);
    let aptOptions = [];
    let fetched = choice.packages ? run('apt-get', ['download', ...choice.packages], log, { cwd: join(staging, 'debs') }) : undefined;
    if (!fetched || fetched.status !== 0) {
      const apt = join(staging, 'apt');
      mkdirSync(join(apt, 'lists', 'partial'), { recursive: true });
      mkdirSync(join(apt, 'cache', 'archives', 'partial'), { recursive: true });
      aptOptions = privateListsOptions(apt);
      const update = run('apt-get', [...aptOptions, 'update'], log);
      if (update.status !== 0) {
        return { ok: false, reason: `apt could not read the package lists (${firstLine(update)})`, fix: 'check the network and apt sources, then run: npm run build:native' };
      }
      choice = pickVersion(aptOptions, log);
      if (!choice.packages) {
        const offered = choice.seen.length ? `apt offers libdnnl-dev ${choice.seen.join(', ')}, the addon needs 2.x` : 'apt has no libdnnl-dev';
        return {
          ok: false,
          reason: offered,
          fix: fromSource,
        };
      }
      rmSync(join(staging, 'debs'), { recursive: true, force: true });
      mkdirSync(join(staging, 'debs'));
      fetched = run('apt-get', [...aptOptions, 'download', ...choice.packages], log, { cwd: join(staging, 'debs') });
      if (fetched.status !== 0) {
        return { ok: false, reason: `apt-get download ${choice.packages.join(' ')} failed (${firstLine(fetched)})`, fix: 'check the network, then run: npm run build:native' };
      }
    }
    const root = join(staging, 'root');
    for (const deb of readdirSync(join(staging, 'debs')).filter((f) => f.endsWith('.deb'))) {
      const x = run('dpkg-deb', ['-x', join(staging, 'debs', deb), root], log);
      if (x.status !== 0) return { ok: false, reason: `dpkg-deb -x ${deb} failed (${firstLine(x)})`, fix: 'run: npm run build:native' };
    }
    const libDirs = findDirsHolding(root, 'libdnnl.so');
    if (libDirs.length !== 1 || !existsSync(join(root, 'usr', 'include', 'dnnl.hpp'))) {
      return { ok: false, reason: 'the fetched libdnnl packages do not have the expected layout', fix: 'run: sudo apt-get install libdnnl-dev && npm run build:native' };
    }
    const out = join(staging, 'out');
    mkdirSync(join(out, 'share'), { recursive: true });
    const layout = depsLayout(out);
    renameSync(join(root, 'usr', 'include'), layout.include);
    renameSync(libDirs[0], layout.lib);
    rmSync(join(layout.lib, 'cmake'), { recursive: true, force: true }); // points at /usr; nothing here uses it
    renameSync(join(root, 'usr', 'share', 'doc'), join(out, 'share', 'doc'));
    writeFileSync(layout.versionFile, `${choice.packages.join(' ')}\n`);
    rmSync(depsDir, { recursive: true, force: true });
    mkdirSync(dirname(depsDir), { recursive: true });
    renameSync(out, depsDir);
    return { ok: true, packages: choice.packages.join(' ') };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
