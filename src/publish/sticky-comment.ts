import type { IssueComment, RepositoryApi } from '../github/repository-api.js';

/** Login GitHub gives comments made with the workflow's GITHUB_TOKEN. */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]';

/**
 * The hidden first line that identifies this runner's comment on a pull request. The runner name
 * is reduced to a safe alphabet so it cannot close the HTML comment.
 */
export function commentMarker(runnerId: string): string {
  return `<!-- autoresearch-ci:runner=${runnerId.replace(/[^A-Za-z0-9._-]/g, '_')} -->`;
}

/**
 * Finds our comment: its first line is exactly the marker *and* the bot wrote it. A person quoting
 * the marker, or a log excerpt that contains it further down, never matches.
 */
function findStickyComment(
  comments: readonly IssueComment[],
  marker: string,
  botLogin: string,
): IssueComment | undefined {
  return comments.find((c) => c.authorLogin === botLogin && firstLine(c.body) === marker);
}

/** Creates or updates the sticky comment; returns it. */
export async function upsertStickyComment(
  api: Pick<RepositoryApi, 'listComments' | 'createComment' | 'updateComment'>,
  issueNumber: number,
  marker: string,
  body: string,
  botLogin: string = ACTIONS_BOT_LOGIN,
): Promise<IssueComment> {
  if (firstLine(body) !== marker) throw new Error('a sticky comment body must start with its marker line');
  const existing = findStickyComment(await api.listComments(issueNumber), marker, botLogin);
  return existing ? api.updateComment(existing.id, body) : api.createComment(issueNumber, body);
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
}
