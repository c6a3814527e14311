import { describe, expect, it } from 'vitest';
import { ingressFilters, parseRequestTopic, responseTopicOwner } from './topics.ts';

describe('MQTT topics', () => {
  it('parses both request forms and nothing else', () => {
    expect(parseRequestTopic('hexedge/v1/infer/dev-1/comfort-index')).toEqual({
      form: 'v5',
      clientId: 'dev-1',
      model: 'comfort-index',
    });
    // The old v5 form named no sender: it is not a request topic any more.
    expect(parseRequestTopic('hexedge/v1/infer/comfort-index')).toBeUndefined();
    expect(parseRequestTopic('hexedge/v1/req/dev-1/42')).toEqual({
      form: 'v311',
      clientId: 'dev-1',
      requestId: '42',
    });
    for (const t of [
      'hexedge/v1/req/dev-1',
      'hexedge/v1/req/dev-1/42/x',
      'hexedge/v2/infer/m',
      'hexedge/v1/infer/',
      'hexedge/v1/infer/$m',
    ])
      expect(parseRequestTopic(t)).toBeUndefined();
  });

  it('finds the owner of a response topic', () => {
    expect(responseTopicOwner('hexedge/v1/res/dev-1/abc')).toBe('dev-1');
    expect(responseTopicOwner('hexedge/v1/res/dev-1/a/b')).toBe('dev-1');
    expect(responseTopicOwner('hexedge/v1/res/dev-1')).toBeUndefined();
    expect(responseTopicOwner('other/res/dev-1/x')).toBeUndefined();
  });

  it('subscribes through a shared group when given one', () => {
    expect(ingressFilters('hexedge')).toEqual([
      '$share/hexedge/hexedge/v1/infer/+/+',
      '$share/hexedge/hexedge/v1/req/+/+',
    ]);
    expect(ingressFilters()).toEqual(['hexedge/v1/infer/+/+', 'hexedge/v1/req/+/+']);
  });
});
