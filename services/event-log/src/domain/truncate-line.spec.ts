import { truncateLine, TRUNCATION_MARKER } from './truncate-line';

describe('truncateLine', () => {
  it('keeps short lines', () => {
    expect(truncateLine('hello', 10)).toEqual({ text: 'hello', truncated: false });
    expect(truncateLine('x'.repeat(100), 100)).toEqual({ text: 'x'.repeat(100), truncated: false });
  });

  it('cuts long lines with a marker saying how much was dropped', () => {
    const { text, truncated } = truncateLine('y'.repeat(150), 100);
    expect(truncated).toBe(true);
    expect(text).toBe(`${'y'.repeat(100)}${TRUNCATION_MARKER} 50 bytes]`);
  });

  it('never splits a multi-byte character', () => {
    const { text } = truncateLine('é'.repeat(100), 101); // 2 bytes each
    expect(text.startsWith('é'.repeat(50) + TRUNCATION_MARKER)).toBe(true);
    expect(text).not.toContain('\uFFFD');
  });
});
