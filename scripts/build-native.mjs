#!/usr/bin/env node
// Builds the optional oneDNN addon (native/onednn) for the `onednn` TF.js backend.
// Runs as the package's "install" script and by hand (`npm run build:native`). The backend is optional,
// so nothing here may fail `npm install`: any missing prerequisite or build failure prints one line saying
// why the backend is unavailable and what to run, and exits 0; the same line goes to
// native/onednn/build/unavailable.txt, where `resnet-exp doctor` reads it.
//
// Where oneDNN comes from (RESNET_EXP_DNNL):
//   auto (default)  an installed oneDNN 2.x (DNNL_ROOT, /usr, /usr/local), else a private copy of Debian's/Ubuntu's
//                   packages fetched with apt into native/onednn/deps/ (scripts/onednn-deps.mjs) and loaded through
//                   the addon's $ORIGIN-relative rpath: nothing is installed on the system.
//   system          only an installed oneDNN; never fetch (the opt-out).
//   local           always the private copy, even when oneDNN is installed (to test that path).
// RESNET_EXP_SKIP_NATIVE=1 skips the build entirely.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existingDeps, fetchDeps } from './onednn-deps.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addonDir = join(root, 'native', 'onednn');
const depsDir = join(addonDir, 'deps');
const addonFile = join(addonDir, 'build', 'Release', 'onednn.node');
const logFile = join(addonDir, 'build', 'build-native.log');
const statusFile = join(addonDir, 'build', 'unavailable.txt');
const started = Date.now();
const logParts = [];
const log = (text) => logParts.push(text);

function writeLog() {
  mkdirSync(dirname(logFile), { recursive: true });
  writeFileSync(logFile, `${logParts.join('\n')}\n`);
}

/** One line, "<why>; <what to run>", on stdout and in the file doctor reads; exit 0 (the backend is optional). */
function unavailable(reason, fix) {
  const line = `${reason}; ${fix}`;
  try {
    writeLog();
    writeFileSync(statusFile, `${line}\n`);
  } catch {
    // The line on stdout is what matters; doctor then falls back to its generic hint.
  }
  console.log(`resnet-exp: onednn backend unavailable: ${line}`);
  process.exit(0);
}

const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
const works = (cmd) => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
const RETRY = 'npm run build:native';
// Where apt has no oneDNN 2.x: build the last 2.x release from source into a prefix of the user's own.
const FROM_SOURCE =
  'build oneDNN 2.7 and point DNNL_ROOT at it: git clone -b v2.7.5 --depth 1 https://github.com/oneapi-src/oneDNN && ' +
  'cmake -S oneDNN -B oneDNN/build -DCMAKE_INSTALL_PREFIX=$HOME/.local/onednn2 -DCMAKE_INSTALL_LIBDIR=lib -DDNNL_BUILD_TESTS=OFF -DDNNL_BUILD_EXAMPLES=OFF && ' +
  `cmake --build oneDNN/build -j && cmake --install oneDNN/build && DNNL_ROOT=$HOME/.local/onednn2 ${RETRY}`;

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
  return { reason: 'oneDNN 2.x headers (dnnl.hpp) not found' };
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

/** What node-gyp needs besides oneDNN: a C++ compiler, make and Python 3. */
function missingTools() {
  const python = process.env.npm_config_python || process.env.PYTHON || 'python3';
  return [
    works(process.env.CXX || 'g++') ? undefined : 'g++',
    works('make') ? undefined : 'make',
    works(python) ? undefined : 'python3',
  ].filter(Boolean);
}

/** gyp arguments for where oneDNN is: an installed prefix, or the private copy (-Ddnnl_private=1). */
function locateDnnl(mode) {
  if (mode !== 'local') {
    const headers = findDnnlHeaders();
    if (headers.root && hasDnnlLibrary(headers.root)) {
      return { args: headers.root === '/usr' ? [] : [`-Ddnnl_root=${headers.root}`], from: headers.root };
    }
    const why = headers.root ? `libdnnl.so not found next to the headers in ${headers.root}` : headers.reason;
    if (process.env.DNNL_ROOT) unavailable(`${why} (DNNL_ROOT=${process.env.DNNL_ROOT})`, FROM_SOURCE);
    if (mode === 'system') unavailable(`${why} and fetching is off (RESNET_EXP_DNNL=system)`, `run: ${sudo}apt-get install libdnnl-dev && ${RETRY}`);
    log(`${why}: using a private copy in ${depsDir}`);
  }
  let packages = existingDeps(depsDir);
  if (packages) {
    log(`reusing the private copy in ${depsDir} (${packages}); delete that folder to fetch again`);
  } else {
    console.log('resnet-exp: fetching oneDNN 2.x with apt-get download into native/onednn/deps/ (nothing is installed on the system; RESNET_EXP_DNNL=system turns this off)');
    const fetchStart = Date.now();
    const fetched = fetchDeps(depsDir, log, FROM_SOURCE);
    if (!fetched.ok) unavailable(fetched.reason, fetched.fix);
    packages = `${fetched.packages}, fetched in ${((Date.now() - fetchStart) / 1000).toFixed(0)} s`;
  }
  return { args: ['-Ddnnl_private=1'], from: `native/onednn/deps: ${packages}` };
}

// Whatever goes wrong (a race with another install in this folder, a full disk), `npm install` must not fail.
process.on('uncaughtException', (e) => unavailable(`unexpected error: ${e instanceof Error ? e.message : e}`, `run: ${RETRY}`));

if (process.env.RESNET_EXP_SKIP_NATIVE === '1') unavailable('build skipped (RESNET_EXP_SKIP_NATIVE=1)', `run: ${RETRY}`);
mkdirSync(dirname(statusFile), { recursive: true });
rmSync(statusFile, { force: true });
if (process.platform !== 'linux') {
  unavailable(
    `the addon is built only on Linux (this is ${process.platform})`,
    "nothing to run: backend auto trains on wasm here; for onednn use Linux (e.g. Docker's node:20-bookworm image, where npm install builds it)",
  );
}
const mode = process.env.RESNET_EXP_DNNL || 'auto';
if (!['auto', 'system', 'local'].includes(mode)) unavailable(`RESNET_EXP_DNNL=${mode} is not auto, system or local`, `run: RESNET_EXP_DNNL=auto ${RETRY}`);
const missing = missingTools();
if (missing.length > 0) {
  const fix = works('apt-get') ? `run: ${sudo}apt-get install -y g++ make python3 && ${RETRY}` : `install ${missing.join(', ')}, then run: ${RETRY}`;
  unavailable(`${missing.join(', ')} not found (needed to build the addon)`, fix);
}

const dnnl = locateDnnl(mode);
const [cmd, ...prefixArgs] = nodeGypCommand();
const args = [...prefixArgs, 'rebuild', `--jobs=max`, ...nodedirArgs(), ...(dnnl.args.length ? ['--', ...dnnl.args] : [])];
const build = spawnSync(cmd, args, { cwd: addonDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
log(`$ ${cmd} ${args.join(' ')}\n${build.stdout ?? ''}\n${build.stderr ?? ''}\n${build.error ?? ''}`);
if (build.status !== 0) {
  unavailable(`node-gyp build failed (exit ${build.status ?? build.signal ?? build.error?.message}; log: ${logFile})`, `fix what the log shows, then run: ${RETRY}`);
}

// A built addon can still fail to load (e.g. a library missing at run time): check in a child process, and name
// the libdnnl it actually loaded.
const probeScript = `
const a = require(${JSON.stringify(addonFile)});
const lib = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').map((l) => l.split(/\\s+/)[5]).find((p) => /libdnnl\\.so/.test(p ?? ''));
console.log(JSON.stringify({ version: a.version(), threads: a.numThreads(), lib }));`;
const probe = spawnSync(process.execPath, ['-e', probeScript], { encoding: 'utf8' });
log(`probe: ${probe.stdout}${probe.stderr}`);
if (probe.status !== 0) {
  const why = (probe.stderr || '').split('\n').find((l) => l.includes('Error')) ?? `exit ${probe.status}`;
  unavailable(`addon built but does not load: ${why.trim()}`, `see ${logFile}, then run: ${RETRY}`);
}
writeLog();
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const loaded = JSON.parse(probe.stdout.trim().split('\n').pop());
console.log(`resnet-exp: onednn backend built in ${seconds} s (oneDNN ${loaded.version}, ${loaded.threads} threads) against ${dnnl.from}; it loads ${loaded.lib}`);
