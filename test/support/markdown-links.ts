// Checks the relative links of Markdown files: the target exists inside the repository, and a
// `#fragment` names a heading of the target page. Links to other sites (http:, https:, mailto:)
// are not fetched: the machine that runs the tests may have no network.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";

export interface LinkProblem {
  file: string;
  line: number;
  link: string;
  problem: string;
}

/** Markdown files tracked by git or new and not ignored (so node_modules, .venv, build output stay out). */
export function markdownFiles(root: string): string[] {
  const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "--", "*.md"], {
    cwd: root,
    encoding: "utf8",
  });
  return out
    .split("\n")
    .filter((f) => f !== "" && existsSync(path.join(root, f)))
    .sort();
}

/** Lines outside fenced code blocks, with inline code spans blanked, keeping 1-based line numbers. */
function proseLines(text: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split("\n").forEach((raw, i) => {
    const opener = /^\s*(```+|~~~+)/.exec(raw);
    if (opener) {
      const marker = opener[1];
      if (fence === undefined) fence = marker[0].repeat(marker.length);
      else if (marker.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    lines.push({ line: i + 1, text: raw.replace(/(`+)[^`]*?\1/g, (m) => " ".repeat(m.length)) });
  });
  return lines;
}

/**
 * The anchors GitHub gives a page's headings: lowercased, punctuation dropped, spaces turned into
 * hyphens, and `-1`, `-2`… appended to repeats.
 */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fence: string | undefined;
  for (const raw of text.split("\n")) {
    const opener = /^\s*(```+|~~~+)/.exec(raw);
    if (opener) {
      const marker = opener[1];
      if (fence === undefined) fence = marker[0].repeat(marker.length);
      else if (marker.startsWith(fence)) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (!heading) continue;
    const base = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const INLINE_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const REFERENCE_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/;

/** Every problem with the relative links of the given Markdown files (paths relative to root). */
export function checkMarkdownLinks(root: string, files: string[]): LinkProblem[] {
  const realRoot = path.resolve(root);
  const problems: LinkProblem[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchorsOf = (abs: string): Set<string> => {
    let anchors = anchorCache.get(abs);
    if (!anchors) {
      anchors = headingAnchors(readFileSync(abs, "utf8"));
      anchorCache.set(abs, anchors);
    }
    return anchors;
  };
  for (const file of files) {
    const abs = path.join(realRoot, file);
    for (const { line, text } of proseLines(readFileSync(abs, "utf8"))) {
      const targets = [...text.matchAll(INLINE_LINK)].map((m) => m[1]);
      const ref = REFERENCE_DEFINITION.exec(text);
      if (ref) targets.push(ref[1]);
      for (const link of targets) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // http:, https:, mailto: …
        const report = (problem: string) => problems.push({ file, line, link, problem });
        if (link.startsWith("/")) {
          report("is an absolute path; link relative to this file");
          continue;
        }
        const hash = link.indexOf("#");
        const target = decodeURIComponent(hash === -1 ? link : link.slice(0, hash));
        const fragment = hash === -1 ? undefined : decodeURIComponent(link.slice(hash + 1));
        const resolved = target === "" ? abs : path.resolve(path.dirname(abs), target);
        const relative = path.relative(realRoot, resolved);
        if (relative.startsWith("..") || path.isAbsolute(relative)) {
          report("points outside the repository");
          continue;
        }
        if (!existsSync(resolved)) {
          report(`names ${relative}, which does not exist`);
          continue;
        }
        if (fragment !== undefined && statSync(resolved).isFile() && resolved.endsWith(".md")) {
          if (!anchorsOf(resolved).has(fragment.toLowerCase())) {
            report(`has no heading #${fragment} in ${path.relative(realRoot, resolved)}`);
          }
        }
      }
    }
  }
  return problems;
}
