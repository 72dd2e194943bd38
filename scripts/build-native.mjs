#!/usr/bin/env node
// Builds the optional oneDNN addon (native/onednn) for the `onednn` TF.js backend.
// Runs as the package's "install" script and by hand (`npm run build:native`). The backend is optional,
// so nothing here may fail `npm install`: any missing prerequisite or build failure prints one line saying
// why the backend is unavailable and exits 0. Set RESNET_EXP_SKIP_NATIVE=1 to skip the build entirely.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = join(root, 'native', 'onednn');
const addonFile = join(addonDir, 'build', 'Release', 'onednn.node');
const logFile = join(addonDir, 'build', 'build-native.log');

function unavailable(reason) {
  console.log(`resnet-exp: onednn backend unavailable: ${reason}`);
  process.exit(0);
}

/** The oneDNN include dir holding a 2.x dnnl.hpp, or a reason why there is none. */
function findDnnlHeaders() {
  const roots = [process.env.DNNL_ROOT, '/usr', '/usr/local'].filter(Boolean);
  for (const r of roots) {
    const versionHeader = join(r, 'include', 'oneapi', 'dnnl', 'dnnl_version.h');
    if (!existsSync(join(r, 'include', 'dnnl.hpp')) || !existsSync(versionHeader)) continue;
    const major = /#define\s+DNNL_VERSION_MAJOR\s+(\d+)/.exec(readFileSync(versionHeader, 'utf8'))?.[1];
    // The addon uses the 2.x op-descriptor API (Debian 12 ships 2.6); 3.x removed it.
    if (major !== '2') return { reason: `found oneDNN ${major ?? '?'}.x headers in ${r}/include, need 2.x` };
    return { root: r };
  }
  return { reason: 'oneDNN headers (dnnl.hpp) not found; install libdnnl-dev' };
}

function hasDnnlLibrary(dnnlRoot) {
  const dirs = [join(dnnlRoot, 'lib'), join(dnnlRoot, 'lib64'), '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib'];
  if (dirs.some((d) => existsSync(join(d, 'libdnnl.so')))) return true;
  const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  return ldconfig.status === 0 && /\blibdnnl\.so\s/.test(ldconfig.stdout);
}

/** The command (argv prefix) that runs node-gyp: npm's own copy when npm runs us, else npm's bundled one, else npx. */
function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) {
    return fromNpm.endsWith('.js') ? [process.execPath, fromNpm] : [fromNpm];
  }
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['npx', '--yes', 'node-gyp'];
}

/** node-gyp otherwise downloads Node's headers; use the installed ones when npm hasn't said where they are. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

if (process.env.RESNET_EXP_SKIP_NATIVE === '1') unavailable('build skipped (RESNET_EXP_SKIP_NATIVE=1)');
if (process.platform !== 'linux') unavailable(`the addon is only built on Linux (this is ${process.platform})`);

const headers = findDnnlHeaders();
if (!headers.root) unavailable(headers.reason);
if (!hasDnnlLibrary(headers.root)) unavailable('libdnnl.so not found; install libdnnl-dev');

const [cmd, ...prefixArgs] = nodeGypCommand();
const dnnlRootArgs = headers.root === '/usr' ? [] : ['--', `-Ddnnl_root=${headers.root}`];
const args = [...prefixArgs, 'rebuild', `--jobs=max`, ...nodedirArgs(), ...dnnlRootArgs];
const build = spawnSync(cmd, args, { cwd: addonDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
mkdirSync(dirname(logFile), { recursive: true });
writeFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n${build.stdout ?? ''}\n${build.stderr ?? ''}\n${build.error ?? ''}\n`);
if (build.status !== 0) {
  unavailable(`node-gyp build failed (exit ${build.status ?? build.signal ?? build.error?.message}); see ${logFile}`);
}

// A built addon can still fail to load (e.g. libdnnl.so.2 missing at run time): check in a child process.
const probe = spawnSync(
  process.execPath,
  ['-e', `const a = require(${JSON.stringify(addonFile)}); console.log(a.version() + ' with ' + a.numThreads() + ' threads')`],
  { encoding: 'utf8' },
);
if (probe.status !== 0) {
  const why = (probe.stderr || '').split('\n').find((l) => l.includes('Error')) ?? `exit ${probe.status}`;
  unavailable(`addon built but does not load: ${why.trim()}`);
}
console.log(`resnet-exp: onednn backend built (oneDNN ${probe.stdout.trim()})`);
