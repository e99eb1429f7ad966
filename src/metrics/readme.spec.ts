import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service';
import { SECURITY_EVENT_TYPE_NAMES } from '../audit/security-events';
import { Metrics } from './metrics.service';

/** The README documents each event type and each metric of ours (issue 14): a new one without its row fails here. */
describe('the README', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

  it.each(SECURITY_EVENT_TYPE_NAMES)('has a row for the event type %s', (type) => {
    expect(readme).toContain(`| \`${type}\` |`);
  });

  const metrics = new Metrics({ driver: {} } as unknown as DataSource, { observe: () => undefined } as unknown as AuditLog);
  const names = metrics.registry.getMetricsAsArray().map((metric) => metric.name);

  it('lists the metrics of ours', () => {
    expect(names.length).toBeGreaterThanOrEqual(12);
  });

  it.each(names)('has a row for the metric %s', (name) => {
    expect(readme).toContain(`| \`${name}\` |`);
  });
});
