import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinePieces, PIECE_MAX_CHARS, PIECE_MAX_LINES } from '../src/domain/line-pieces';

function piecesOf(lines: string[]): string[] {
  const p = new LinePieces();
  const out: string[] = [];
  for (const l of lines) {
    const piece = p.add(l);
    if (piece !== undefined) out.push(piece);
  }
  const last = p.flush();
  if (last !== undefined) out.push(last);
  return out;
}

test('small lines go to the store a few hundred per piece, every line once and in order', () => {
  const lines = Array.from({ length: 1_300 }, (_, i) => `{"custom_id":"r${i}"}`);
  const pieces = piecesOf(lines);
  assert.equal(pieces.length, Math.ceil(1_300 / PIECE_MAX_LINES));
  assert.deepEqual(pieces.join('\n').split('\n'), lines);
});

test('large lines (a request with a PDF) are flushed by size, so no piece grows past about a megabyte plus one line', () => {
  const big = 'x'.repeat(700_000);
  const lines = Array.from({ length: 600 }, (_, i) => `{"custom_id":"r${i}","pdf":"${big}"}`);
  const pieces = piecesOf(lines);
  for (const piece of pieces) assert.ok(piece.length < PIECE_MAX_CHARS + 710_000, `piece of ${piece.length} chars`);
  assert.ok(pieces.length >= 300);
  assert.deepEqual(pieces.join('\n').split('\n'), lines);
});

test('nothing added: no piece', () => {
  assert.equal(new LinePieces().flush(), undefined);
});
