// Every relative link of the repository's documentation points to a file that exists inside the
// repository, and a link to a heading (`page.md#heading`) to a heading that exists, with the
// anchors GitHub makes. Links to other sites are not followed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = process.cwd();

/** The documentation: the README, everything under docs/, and the other pages when they exist. */
function pages(): string[] {
  const listed = ['README.md', 'ARCHITECTURE.md', 'bench/README.md', 'config/README.md'].filter((path) =>
    existsSync(join(ROOT, path)),
  );
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir)).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(join(ROOT, path)).isDirectory()) return walk(path);
      return name.endsWith('.md') ? [path] : [];
    });
  return [...listed, ...walk('docs')];
}

/** The text outside fenced code blocks and code spans, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
}

/** Inline links and images `[text](target "title")`, and reference definitions `[id]: target`. */
function linksOf(markdown: string): string[] {
  const text = prose(markdown);
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const references = [...text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]);
  return [...inline, ...references];
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

function brokenLinks(page: string): string[] {
  const markdown = readFileSync(join(ROOT, page), 'utf8');
  const broken: string[] = [];
  for (const link of linksOf(markdown)) {
    if (isExternal(link)) continue;
    const [path, anchor] = link.split('#', 2) as [string, string | undefined];
    const target = path === '' ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURIComponent(path));
    if (relative(ROOT, target).startsWith('..')) {
      broken.push(`${page}: ${link} (outside the repository)`);
    } else if (!existsSync(target)) {
      broken.push(`${page}: ${link} (no such file)`);
    } else if (anchor && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
      broken.push(`${page}: ${link} (no such heading)`);
    }
  }
  return broken;
}

describe('links of the documentation', () => {
  it('covers the README and docs/', () => {
    expect(pages()).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'docs/rest.md']));
  });

  it.each(pages())('%s: every relative link resolves', (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it('makes the anchors GitHub makes', () => {
    const anchors = anchorsOf('# Errors\n## `/cashier/svc/ws`\n## Market channels (`/public`)\n## Codes\n## Codes\n');
    expect([...anchors]).toEqual(['errors', 'cashiersvcws', 'market-channels-public', 'codes', 'codes-1']);
  });
});

describe('ARCHITECTURE.md', () => {
  it('names only paths that exist', () => {
    const text = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    const named = [
      ...text.matchAll(/`((?:src|migrations|docs|config|test|bench)\/[^`\s]*|[a-z-]+\.(?:ts|mjs|json|md))`/g),
    ]
      .map((m) => m[1])
      .filter((path) => path.includes('/') && !path.includes('<'));
    expect(named.length).toBeGreaterThan(30);
    expect(named.filter((path) => !existsSync(join(ROOT, path.replace(/\/\*.*$/, ''))))).toEqual([]);
  });
});
