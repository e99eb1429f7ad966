import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every .ts file under `dir`, tests excluded. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('API classes', () => {
  it('have names unique across every surface (Swagger keys schemas by class name: a twin silently replaces the other)', () => {
    const seen = new Map<string, string>();
    const twins: string[] = [];
    for (const file of sources(__dirname)) {
      for (const [, name] of readFileSync(file, 'utf8').matchAll(/^export class (\w+)/gm)) {
        if (seen.has(name)) twins.push(`${name}: ${seen.get(name)} and ${file}`);
        else seen.set(name, file);
      }
    }
    expect(twins).toEqual([]);
  });
});
