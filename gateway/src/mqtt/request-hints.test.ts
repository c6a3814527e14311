import { describe, expect, it } from 'vitest';
import { mqttHints } from './request-hints.ts';

describe('MQTT v5 user properties as request hints', () => {
  it('reads traceparent, priority, deadline and cache directives (the first of a repeated name)', () => {
    expect(
      mqttHints({
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'hexedge-priority': ['low', 'high'],
        'hexedge-deadline-ms': '2500',
        'hexedge-cache': 'no-cache',
      }),
    ).toEqual({
      channel: 'mqtt',
      trace: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', flags: 1 },
      priority: 'low',
      deadlineMs: 2500,
      cacheControl: 'no-cache',
    });
  });

  it('ignores a malformed traceparent (a new trace) and refuses a bad priority or deadline, naming it', () => {
    expect(mqttHints({ traceparent: 'nonsense' })).toEqual({ channel: 'mqtt' });
    expect(() => mqttHints({ 'hexedge-priority': 'urgent' })).toThrow(
      /user property hexedge-priority "urgent" must be one of high, normal, low/,
    );
    expect(() => mqttHints({ 'hexedge-deadline-ms': '-5' })).toThrow(
      /user property hexedge-deadline-ms "-5" must be whole milliseconds/,
    );
    expect(mqttHints(undefined)).toEqual({ channel: 'mqtt' });
  });
});
