import { mayReadMetrics, routeLabel } from './metrics.http';

const TOKEN = 'metrics-token-0123456789abcdef';
const request = (remoteAddress: string, headers: Record<string, string> = {}) => ({ headers, socket: { remoteAddress } });

describe('who may read GET /metrics', () => {
  describe('without METRICS_TOKEN: loopback clients that came through no proxy', () => {
    it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])('%s may', (address) => {
      expect(mayReadMetrics(request(address), undefined)).toBe(true);
    });

    it.each(['10.0.0.5', '192.168.1.1', '::ffff:10.0.0.5', '2001:db8::1', '128.0.0.1', ''])('%s may not', (address) => {
      expect(mayReadMetrics(request(address), undefined)).toBe(false);
    });

    it('a loopback peer that forwards for someone (a reverse proxy on this host) may not', () => {
      expect(mayReadMetrics(request('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }), undefined)).toBe(false);
      expect(mayReadMetrics(request('127.0.0.1', { forwarded: 'for=203.0.113.7' }), undefined)).toBe(false);
    });
  });

  describe('with METRICS_TOKEN: exactly "Bearer <token>", from anywhere', () => {
    it('the right token, from any address', () => {
      expect(mayReadMetrics(request('203.0.113.7', { authorization: `Bearer ${TOKEN}` }), TOKEN)).toBe(true);
    });

    it.each([undefined, '', TOKEN, `Token ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `bearer  ${TOKEN}`])(
      '%p is refused, even from loopback',
      (authorization) => {
        expect(mayReadMetrics(request('127.0.0.1', authorization === undefined ? {} : { authorization }), TOKEN)).toBe(false);
      },
    );
  });
});

describe('the route label', () => {
  it("is the route template, without the UUID pattern of 001's root route", () => {
    expect(routeLabel('/v1/me/sessions/:id')).toBe('/v1/me/sessions/:id');
    expect(routeLabel('/:userId(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)')).toBe('/:userId');
  });

  it('is "unmatched" for requests no route took (never the raw URL)', () => {
    expect(routeLabel(undefined)).toBe('unmatched');
  });
});
