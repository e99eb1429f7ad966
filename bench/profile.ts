// Summarises a V8 CPU profile (.cpuprofile) for bench/RESULTS.md: the share of busy main-thread time
// per layer (package or app folder) and the heaviest functions by self time.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleShare: number;
  groups: { name: string; share: number }[];
  functions: { name: string; where: string; share: number }[];
  rpsUnderProfiler?: number;
  loadedModules?: number;
  memoryUsage?: any;
}

/** Layers, by package (or Node's own modules); the app's own code by folder. */
const LAYERS: [RegExp, string][] = [
  [/^(pg|pg-protocol|pg-pool|pg-types|postgres-.*|pgpass|buffer-writer|packet-reader)$/, 'pg driver'],
  [/^(typeorm)$/, 'TypeORM'],
  [/^@nestjs\//, 'Nest'],
  [
    /^(fastify|find-my-way|light-my-request|avvio|@fastify\/.*|fast-json-stringify|fast-querystring|toad-cache|process-warning|rfdc|abstract-logging|safe-regex2|ret)$/,
    'Fastify',
  ],
  [
    /^(pino|pino-std-serializers|sonic-boom|fast-redact|thread-stream|quick-format-unescaped|atomic-sleep|on-exit-leak-free|safe-stable-stringify)$/,
    'logging (pino)',
  ],
  [/^(class-validator|class-transformer|validator|libphonenumber-js)$/, 'validation (class-validator)'],
  [/^(rxjs|tslib|reflect-metadata)$/, 'rxjs / tslib / reflect-metadata'],
  [/^helmet$/, 'helmet'],
];

function layerOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(program)') return 'V8 / native (program)';
    return '';
  }
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) return LAYERS.find(([pattern]) => pattern.test(inModules[1]))?.[1] ?? `other packages (${inModules[1]})`;
  const app = /\/dist\/(.+?)(?:\/[^/]+)?\.js$/.exec(url) ?? /\/dist\/([^/]+)\.js$/.exec(url);
  if (app) return `app: ${app[1].split('/')[0]}/`;
  if (/^node:internal\/crypto/.test(url)) return 'node:crypto (ES256 verify, hashes)';
  if (/^node:(internal\/)?(http|_http|net|stream|streams|tls|dns|timers|event|events|buffer|url)/.test(url)) return 'Node: http, net, streams, timers';
  if (url.startsWith('node:')) return 'Node: other internals';
  return 'other';
}

export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  /** Native frames (no url) count for the layer that called them. */
  const layer = (node: ProfileNode): string => {
    let current: ProfileNode | undefined = node;
    while (current) {
      const found = layerOf(current.callFrame.url, current.callFrame.functionName);
      if (found) return found;
      current = byId.get(parent.get(current.id)!);
    }
    return 'V8 / native (program)';
  };

  const hits = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; hits: number }>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const count = node.hitCount ?? 0;
    if (!count) continue;
    const group = layer(node);
    if (group === '(idle)') {
      idle += count;
      continue;
    }
    total += count;
    hits.set(group, (hits.get(group) ?? 0) + count);
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : group;
    const key = `${functionName}@${file}`;
    const entry = functions.get(key) ?? { name: functionName || '(anonymous)', where: file, hits: 0 };
    entry.hits += count;
    functions.set(key, entry);
  }
  const share = (count: number) => (total ? count / total : 0);
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    idleShare: idle / (idle + total || 1),
    groups: [...hits.entries()].map(([name, count]) => ({ name, share: share(count) })).sort((a, b) => b.share - a.share),
    functions: [...functions.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, top)
      .map(({ name, where, hits: count }) => ({ name, where, share: share(count) })),
  };
}
