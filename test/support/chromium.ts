/**
 * Finds a Chromium for the browser tests without asking anyone to install one.
 *
 * On Linux x64 the browser comes from the `@sparticuz/chromium` dev dependency, which `npm ci`
 * installs like any other package (no install script, no download): a headless Chromium built
 * to need nothing from the system but glibc, shipped brotli-packed with its own NSS libraries
 * and a font. The first call unpacks it into `node_modules/.cache/` (about 220 MB, a few seconds);
 * later calls reuse it, and `npm ci` clears it. `CHROMIUM_PATH` overrides the choice anywhere;
 * on macOS the installed Google Chrome or Chromium is used.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createBrotliDecompress } from 'node:zlib';

/** A browser to launch: the binary and the environment it needs. */
export interface ChromiumBinary {
  executablePath: string;
  /** Variables to add to the browser's environment (its libraries and fonts). */
  env: Record<string, string>;
  /** Where it came from, for error messages. */
  source: string;
}

const execFileAsync = promisify(execFile);

const MAC_BROWSERS = [
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/**
 * The browser the tests launch: `CHROMIUM_PATH` when set, else the packaged Chromium on Linux x64,
 * else an installed Chrome on macOS. Throws, saying what to do, when there is none.
 */
export async function findChromium(): Promise<ChromiumBinary> {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!existsSync(override)) throw new Error(`CHROMIUM_PATH is ${override}, which does not exist.`);
    return { executablePath: override, env: {}, source: `CHROMIUM_PATH (${override})` };
  }
  if (process.platform === 'linux' && process.arch === 'x64') return unpackPackagedChromium();
  if (process.platform === 'darwin') {
    const found = MAC_BROWSERS.find((p) => existsSync(p));
    if (found) return { executablePath: found, env: {}, source: found };
  }
  throw new Error(
    `No Chromium for ${process.platform}-${process.arch}: the packaged one (@sparticuz/chromium) is built for Linux x64 only. ` +
      'Set CHROMIUM_PATH to a Chrome or Chromium binary.',
  );
}

/** The installed `@sparticuz/chromium`: its `bin/` folder of packed files and its version. */
function packagedChromium(): { dir: string; bin: string; version: string } {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  } catch {
    throw new Error('@sparticuz/chromium is not installed: run `npm ci`.');
  }
  const dir = path.resolve(path.dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, bin: path.join(dir, 'bin'), version };
}

/**
 * Unpacks the packaged Chromium once per version into `node_modules/.cache/`. Each caller unpacks
 * into its own folder and renames it into place, so test workers starting together never see a
 * half-written browser; the loser of the race drops its copy.
 */
async function unpackPackagedChromium(): Promise<ChromiumBinary> {
  const { dir, bin, version } = packagedChromium();
  // node_modules/.cache, found from the package (scripts run this file bundled elsewhere).
  const cache = path.resolve(dir, '../../.cache/autoresearch-ci');
  const target = path.join(cache, `chromium-${version}`);
  if (!existsSync(path.join(target, 'chromium'))) {
    await mkdir(cache, { recursive: true });
    const staging = await mkdtemp(path.join(cache, `.chromium-${version}-`));
    try {
      await unpackInto(bin, staging, target);
      await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
        if (!existsSync(path.join(target, 'chromium'))) throw error;
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return {
    executablePath: path.join(target, 'chromium'),
    env: {
      // Its own NSS and expat, so the system needs none of them.
      LD_LIBRARY_PATH: [path.join(target, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: path.join(target, 'fonts.conf'),
    },
    source: `@sparticuz/chromium ${version} (unpacked in ${target})`,
  };
}

/**
 * Writes `chromium`, `lib/` (from al2023.tar.br), `fonts/` and a fonts.conf into `dir`, which
 * is then renamed to `final` (the paths in fonts.conf name it).
 */
async function unpackInto(bin: string, dir: string, final: string): Promise<void> {
  const binary = path.join(dir, 'chromium');
  await pipeline(
    createReadStream(path.join(bin, 'chromium.br')),
    createBrotliDecompress(),
    createWriteStream(binary),
  );
  await chmod(binary, 0o755);
  // al2023.tar.br holds lib/; fonts.tar.br holds fonts/ and a fonts.conf naming Lambda's paths.
  await untarBrotli(path.join(bin, 'al2023.tar.br'), dir);
  const fonts = path.join(dir, 'fonts-archive');
  await mkdir(fonts);
  await untarBrotli(path.join(bin, 'fonts.tar.br'), fonts);
  await rename(path.join(fonts, 'fonts'), path.join(dir, 'fonts'));
  await rm(fonts, { recursive: true });
  // The packaged font first, then the system's (emoji, for screenshots) where there are any.
  await writeFile(
    path.join(dir, 'fonts.conf'),
    `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>${path.join(final, 'fonts')}</dir>
  <dir>/usr/share/fonts</dir>
  <dir>/usr/local/share/fonts</dir>
  <cachedir>${path.join(final, 'fontconfig-cache')}</cachedir>
</fontconfig>
`,
  );
}

/** Unpacks a `.tar.br` with `tar` (part of every Linux base system), through a temporary `.tar`. */
async function untarBrotli(archive: string, dir: string): Promise<void> {
  const tarball = path.join(dir, `${path.basename(archive, '.br')}`);
  await pipeline(createReadStream(archive), createBrotliDecompress(), createWriteStream(tarball));
  try {
    await execFileAsync('tar', ['-x', '-f', tarball, '-C', dir]);
  } finally {
    await rm(tarball, { force: true });
  }
}
