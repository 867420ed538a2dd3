/** Splits markdown into fenced blocks and the text outside them, the way CommonMark reads fences. */
export function parseFences(markdown: string): {
  outside: string;
  blocks: Array<{ info: string; content: string }>;
} {
  const outside: string[] = [];
  const blocks: Array<{ info: string; content: string }> = [];
  let open: { fence: string; info: string; lines: string[] } | undefined;
  for (const line of markdown.split('\n')) {
    if (open) {
      const close = line.match(/^ {0,3}(`{3,}|~{3,})\s*$/);
      if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
        blocks.push({ info: open.info, content: open.lines.join('\n') });
        open = undefined;
      } else {
        open.lines.push(line);
      }
      continue;
    }
    const start = line.match(/^ {0,3}(`{3,}|~{3,})(.*)$/);
    if (start) open = { fence: start[1]!, info: start[2]!.trim(), lines: [] };
    else outside.push(line);
  }
  if (open) throw new Error(`fence ${open.fence} never closes`);
  return { outside: outside.join('\n'), blocks };
}
