/**
 * Operations on the emulator's bare repositories, all through real `git` child processes (async:
 * a blocking call would stall the HTTP server that shares this process).
 */
import { execa } from 'execa';

/** Environment that keeps the user's git configuration out of the emulator's repositories. */
export function isolatedGitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Emulator',
    GIT_AUTHOR_EMAIL: 'emulator@example.com',
    GIT_COMMITTER_NAME: 'Emulator',
    GIT_COMMITTER_EMAIL: 'emulator@example.com',
    ...extra,
  };
}

async function git(gitDir: string, args: string[], input?: string | Uint8Array): Promise<string> {
  const result = await execa('git', ['--git-dir', gitDir, ...args], {
    env: isolatedGitEnv(),
    extendEnv: true,
    ...(input === undefined ? {} : { input }),
  });
  return result.stdout;
}

/** Creates a bare repository that accepts pushes over HTTP and fetches of any sha (`depth=1`). */
export async function initBare(gitDir: string, defaultBranch: string): Promise<void> {
  await execa('git', ['init', '--quiet', '--bare', '-b', defaultBranch, gitDir], { env: isolatedGitEnv() });
  await git(gitDir, ['config', 'http.receivepack', 'true']);
  // actions/checkout fetches one commit by sha; git refuses unadvertised shas without this.
  await git(gitDir, ['config', 'uploadpack.allowAnySHA1InWant', 'true']);
}

/** The commit a ref or sha names, or undefined when it names none. */
export async function resolveCommit(gitDir: string, ref: string): Promise<string | undefined> {
  try {
    return await git(gitDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    return undefined;
  }
}

/**
 * Commits `files` on top of `branch` (creating it from `from`, or as a root commit) without a work
 * tree, using one `git fast-import`. A `null` content deletes the file. Returns the new sha.
 */
export async function commitFiles(
  gitDir: string,
  branch: string,
  files: Record<string, string | null>,
  message: string,
  from?: string,
): Promise<string> {
  const parent = (await resolveCommit(gitDir, `refs/heads/${branch}`)) ?? from;
  const chunks: Buffer[] = [];
  const data = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    chunks.push(Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n'));
  };
  const seconds = Math.floor(Date.now() / 1000);
  chunks.push(
    Buffer.from(`commit refs/heads/${branch}\ncommitter Emulator <emulator@example.com> ${seconds} +0000\n`),
  );
  data(message);
  if (parent) chunks.push(Buffer.from(`from ${parent}\n`));
  for (const [file, content] of Object.entries(files)) {
    if (/[\n"]/.test(file)) throw new Error(`Emulator cannot commit a file named ${JSON.stringify(file)}`);
    if (content === null) {
      chunks.push(Buffer.from(`D ${file}\n`));
      continue;
    }
    chunks.push(Buffer.from(`M 100644 inline ${file}\n`));
    data(content);
  }
  chunks.push(Buffer.from('done\n'));
  await git(gitDir, ['fast-import', '--quiet', '--done'], Buffer.concat(chunks));
  const sha = await resolveCommit(gitDir, `refs/heads/${branch}`);
  if (!sha) throw new Error(`Committing to ${branch} in ${gitDir} left no branch behind`);
  return sha;
}

/** The content of `file` at `ref` (`git show ref:file`). */
export async function showFile(gitDir: string, ref: string, file: string): Promise<string> {
  try {
    return (await execa('git', ['--git-dir', gitDir, 'show', `${ref}:${file}`], { stripFinalNewline: false }))
      .stdout;
  } catch (error) {
    throw new Error(
      `Cannot read ${file} at ${ref} in ${gitDir}: ${(error as { stderr?: string }).stderr ?? error}`,
    );
  }
}

/** One file changed between two commits. */
export interface ChangedFile {
  filename: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'copied' | 'changed' | 'unchanged';
  previousFilename?: string;
  /** Blob sha after the change (before it, for removed files). */
  sha: string;
  additions: number;
  deletions: number;
}

const STATUS: Record<string, ChangedFile['status']> = {
  A: 'added',
  D: 'removed',
  M: 'modified',
  R: 'renamed',
  C: 'copied',
  T: 'changed',
};

/** Files changed from `base` to `head` (`git diff --raw -M`, i.e. name-status with blob shas, plus `--numstat`). */
export async function diffFiles(gitDir: string, base: string, head: string): Promise<ChangedFile[]> {
  const [raw, counts] = await Promise.all([
    git(gitDir, ['diff', '-z', '-M', '--raw', '--no-abbrev', base, head]),
    git(gitDir, ['diff', '-z', '-M', '--numstat', base, head]),
  ]);
  const files: ChangedFile[] = [];
  // --raw -z: ":oldmode newmode oldsha newsha STATUS\0path\0" (two paths for renames and copies).
  const parts = raw.split('\0');
  for (let i = 0; i < parts.length; ) {
    const header = parts[i++] ?? '';
    if (!header.startsWith(':')) continue;
    const [, , oldSha = '', newSha = '', code = ''] = header.slice(1).split(' ');
    const status = STATUS[code[0] ?? ''] ?? 'changed';
    const sha = status === 'removed' ? oldSha : newSha;
    if (status === 'renamed' || status === 'copied') {
      const previousFilename = parts[i++] ?? '';
      files.push({ filename: parts[i++] ?? '', status, previousFilename, sha, additions: 0, deletions: 0 });
    } else {
      files.push({ filename: parts[i++] ?? '', status, sha, additions: 0, deletions: 0 });
    }
  }
  // numstat -z: "add\tdel\tpath\0", or "add\tdel\t\0old\0new\0" for renames; "-" for binaries.
  const stats = counts.split('\0');
  for (let i = 0; i < stats.length; i++) {
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(stats[i] ?? '');
    if (!m) continue;
    let filename = m[3] ?? '';
    if (filename === '') {
      i += 2;
      filename = stats[i] ?? '';
    }
    const file = files.find((f) => f.filename === filename);
    if (file) {
      file.additions = m[1] === '-' ? 0 : Number(m[1]);
      file.deletions = m[2] === '-' ? 0 : Number(m[2]);
    }
  }
  return files;
}

/** Facts about one commit, for building API commit objects. */
export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  authorName: string;
  authorEmail: string;
  authorDate: string;
  committerName: string;
  committerEmail: string;
  committerDate: string;
  message: string;
}

/** Commits listed by `git log` for a revision range, oldest first. */
export async function logCommits(gitDir: string, range: string[]): Promise<CommitInfo[]> {
  const out = await git(gitDir, [
    'log',
    '--reverse',
    '--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x1e',
    ...range,
    '--',
  ]);
  return out
    .split('\x1e')
    .map((r) => r.replace(/^\n/, ''))
    .filter((r) => r !== '')
    .map((record) => {
      const [sha, tree, parents, an, ae, ad, cn, ce, cd, message] = record.split('\0');
      return {
        sha: sha ?? '',
        tree: tree ?? '',
        parents: (parents ?? '').split(' ').filter(Boolean),
        authorName: an ?? '',
        authorEmail: ae ?? '',
        authorDate: ad ?? '',
        committerName: cn ?? '',
        committerEmail: ce ?? '',
        committerDate: cd ?? '',
        message: (message ?? '').replace(/\n+$/, ''),
      };
    });
}

/** The best common ancestor of two commits, or undefined for unrelated histories. */
export async function mergeBase(gitDir: string, a: string, b: string): Promise<string | undefined> {
  try {
    return await git(gitDir, ['merge-base', a, b]);
  } catch {
    return undefined;
  }
}

/** Whether `ancestor` is reachable from `descendant`. */
export async function isAncestor(gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
  try {
    await git(gitDir, ['merge-base', '--is-ancestor', ancestor, descendant]);
    return true;
  } catch {
    return false;
  }
}

/** Copies commit `sha` (and its history) from another bare repository and points `ref` at it. */
export async function fetchCommit(
  gitDir: string,
  fromGitDir: string,
  sha: string,
  ref: string,
): Promise<void> {
  if (fromGitDir !== gitDir) await git(gitDir, ['fetch', '--quiet', '--no-tags', fromGitDir, sha]);
  await git(gitDir, ['update-ref', ref, sha]);
}
