// The prompt-cache prefix and the cache-group cut, without a server: which blocks a prefix is made of, the API's
// breakpoint rules, where --cache-prefix may add a mark, prefix keys (the model counts, the mark does not), and the
// grouped cut (each group's requests together and in input order, memory bounded).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prefixChain, groupKeyOf, PrefixSketch } from '../src/activities/prefix-hash';
import { planGroupedShards } from '../src/domain/cache-groups';
import { breakpointIssues, cachingPays, canMark, lastBreakpoint, leadingBlocks, markBlock, minSharing } from '../src/domain/cache-prefix';
import { validateInputLine } from '../src/domain/request';

const mark = (ttl?: '5m' | '1h') => ({ type: 'ephemeral', ...(ttl && { ttl }) });
const text = (t: string, cache?: object) => ({ type: 'text', text: t, ...(cache && { cache_control: cache }) });
type Params = { model: string; max_tokens: number; messages: { role: string; content: Record<string, unknown>[] }[]; [key: string]: unknown };
const base = (extra: Record<string, unknown> = {}): Params => ({
  model: 'claude-sonnet-5-5',
  max_tokens: 16,
  messages: [{ role: 'user', content: [text('the shared document'), text('question 1')] }],
  ...extra,
});

describe('leading blocks and breakpoints', () => {
  it('are tools, then system, then every message block, in that order; string forms count as one text block', () => {
    const params = base({ tools: [{ name: 't', input_schema: { type: 'object' } }], system: 'Be brief.' });
    const blocks = leadingBlocks(params);
    assert.deepEqual(blocks.map((b) => b.path), [['tools', 0], ['system'], ['messages', 0, 'content', 0], ['messages', 0, 'content', 1]]);
    assert.equal(lastBreakpoint(blocks), -1);
  });

  it('the prefix ends at the last marked block; an unmarked ttl is the 5-minute default', () => {
    const params = base({ system: [text('rules', mark('1h'))] });
    params.messages[0]!.content[0]!['cache_control'] = mark();
    const blocks = leadingBlocks(params);
    assert.equal(lastBreakpoint(blocks), 1);
    assert.deepEqual(blocks.map((b) => b.ttl), ['1h', '5m', undefined]);
  });

  it('five breakpoints are refused at the fifth, as the API refuses them; the top-level automatic one counts', () => {
    const five = base({ system: [1, 2, 3, 4, 5].map((i) => text(`s${i}`, mark())) });
    const [issue] = breakpointIssues(five);
    assert.deepEqual(issue?.path, ['system', 4]);
    assert.match(issue.reason, /at most 4 blocks with cache_control, this request has 5/);
    const fourAndAuto = base({ system: [1, 2, 3, 4].map((i) => text(`s${i}`, mark())), cache_control: mark() });
    assert.match(breakpointIssues(fourAndAuto)[0]!.reason, /top-level cache_control counts as one/);
    assert.deepEqual(breakpointIssues(base({ system: [1, 2, 3, 4].map((i) => text(`s${i}`, mark())) })), []);
  });

  it('a 1-hour breakpoint after a 5-minute one is refused (longer lifetimes first)', () => {
    const params = base({ system: [text('a', mark('5m')), text('b', mark('1h'))] });
    const [issue] = breakpointIssues(params);
    assert.deepEqual(issue?.path, ['system', 1, 'cache_control', 'ttl']);
    assert.match(issue.reason, /longer cache lifetimes to come first/);
  });

  it('a request line with five breakpoints is a located input error', () => {
    const line = JSON.stringify({ params: base({ system: [1, 2, 3, 4, 5].map((i) => text(`s${i}`, mark())) }) });
    const v = validateInputLine(line, 7, {}, { maxRequestBytes: 1_000_000 });
    assert.equal(v.ok, false);
    assert.ok(v.ok === false && v.errors.some((e) => e.line === 7 && e.field === 'params.system[4]' && /at most 4/.test(e.reason)), JSON.stringify(v));
  });
});

describe('marking for --cache-prefix', () => {
  it('marks the chosen block; a string system prompt becomes one marked text block', () => {
    const params = base({ system: 'Be brief.' });
    const marked = markBlock(params, 0, '1h');
    assert.deepEqual(marked['system'], [text('Be brief.', mark('1h'))]);
    assert.equal(params['system'], 'Be brief.', 'the original is not changed');
    const second = markBlock(params, 1, '1h');
    assert.deepEqual(second.messages[0]!.content[0], text('the shared document', mark('1h')));
    assert.deepEqual(breakpointIssues(second), []);
  });

  it('adds no fifth breakpoint and keeps lifetimes in order', () => {
    const full = base({ system: [1, 2, 3, 4].map((i) => text(`s${i}`, mark('1h'))) });
    assert.equal(canMark(full, 4, '1h'), false, 'no free slot');
    const short = base({ system: [text('a', mark('5m')), text('b')] });
    assert.equal(canMark(short, 1, '1h'), false, '1h may not follow 5m');
    assert.equal(canMark(short, 1, '5m'), true);
    const long = base({ system: [text('a'), text('b', mark('1h'))] });
    assert.equal(canMark(long, 0, '5m'), false, '5m may not precede 1h');
    assert.equal(canMark(long, 0, '1h'), true);
  });

  it('a prefix is worth marking when one write and n − 1 reads cost less than n plain inputs', () => {
    assert.equal(minSharing('5m'), 2); // 1.25 + 0.1 < 2
    assert.equal(minSharing('1h'), 3); // 2 + 0.1 > 2, 2 + 0.2 < 3
    assert.equal(cachingPays(2, '1h'), false);
  });
});

describe('prefix keys', () => {
  const keyOf = (params: Record<string, unknown>, upTo: number) => groupKeyOf(prefixChain(String(params['model']), leadingBlocks(params), upTo)[upTo - 1]!);

  it('the same leading blocks give the same key whatever their marks and key order; the model counts', () => {
    const a = base({ system: [text('rules', mark('1h'))] });
    const b = base({ system: [{ text: 'rules', type: 'text' }] });
    assert.equal(keyOf(a, 2), keyOf(b, 2));
    assert.notEqual(keyOf(a, 2), keyOf({ ...a, model: 'claude-haiku-5-5' }, 2));
    assert.notEqual(keyOf(a, 2), keyOf(base({ system: [text('other rules')] }), 2));
    assert.equal(keyOf(a, 2).length, 22, 'a short key, never prompt text');
  });

  it('the sketch never counts low', () => {
    const sketch = new PrefixSketch();
    const digests = Array.from({ length: 2_000 }, (_, i) => prefixChain(`m${i}`, [])[0] ?? prefixChain(`m${i}`, leadingBlocks(base()), 1)[0]!);
    digests.forEach((d, i) => {
      for (let n = 0; n <= i % 3; n++) sketch.add(d);
    });
    digests.forEach((d, i) => assert.ok(sketch.count(d) >= (i % 3) + 1));
  });
});

describe('planGroupedShards', () => {
  const opts = { maxRequests: 3, maxBytes: 1_000, maxBufferedBytes: 10_000 };

  it('interleaved groups go to their own sub-batches, each in input order; ungrouped requests keep input order', () => {
    const groups = ['A', 'B', 'A', 'B', 'A', 'B', 'A', '', 'B', ''];
    const shards = planGroupedShards(groups.map((group) => ({ group, bytes: 10 })), opts);
    assert.deepEqual(shards, [[0, 2, 4], [1, 3, 5], [6], [7, 9], [8]]);
    for (const shard of shards) assert.equal(new Set(shard.map((i) => groups[i])).size, 1, 'one group per sub-batch');
  });

  it('the byte limit closes a group early', () => {
    const shards = planGroupedShards([600, 600, 300].map((bytes) => ({ group: 'A', bytes })), opts);
    assert.deepEqual(shards, [[0], [1, 2]]);
  });

  it('past the memory bound the largest open group is closed early: smaller sub-batches, nothing lost', () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ group: `g${i % 20}`, bytes: 100 }));
    const shards = planGroupedShards(items, { maxRequests: 100, maxBytes: 1_000, maxBufferedBytes: 500 });
    assert.deepEqual(shards.flat().sort((a, b) => a - b), items.map((_, i) => i));
    for (const shard of shards) assert.equal(new Set(shard.map((i) => items[i]!.group)).size, 1);
  });
});
