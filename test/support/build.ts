import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { transformFileSync } from '@swc/core';

const ROOT = join(__dirname, '..', '..');

/**
 * The app compiled once per test run for the tests that run it as a process of its own (test/faults):
 * every file of src/ through swc with the project's .swcrc (what Jest uses), assets copied. About
 * 0.2 s, where ts-node would compile the whole app again in each process (seconds per start).
 */
export function buildApp(): string {
  const out = mkdtempSync(join(tmpdir(), 'identity-app-'));
  const { $schema: _, ...options } = JSON.parse(readFileSync(join(ROOT, '.swcrc'), 'utf8'));
  const src = join(ROOT, 'src');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const target = join(out, relative(src, path));
      if (entry.isDirectory()) {
        walk(path);
      } else if (path.endsWith('.ts')) {
        if (path.endsWith('.spec.ts')) continue;
        const { code } = transformFileSync(path, { ...options, swcrc: false, sourceMaps: false, filename: path });
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target.replace(/\.ts$/, '.js'), code);
      } else {
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(path, target);
      }
    }
  };
  walk(src);
  return out;
}
