// Pins the "did you mean" of a misspelled parentRef: the nearest existing name within a typo's reach
// (a third of the length, at least 2 edits), none when nothing is that close.
import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../cli/check/closest-name.js';

describe('closestName', () => {
  it('finds the name a typo meant', () => {
    expect(editDistance('webb', 'web')).toBe(1);
    expect(editDistance('wbe', 'web')).toBe(2);
    expect(closestName('webb', ['db', 'web', 'waypoint'])).toBe('web');
    expect(closestName('waypiont', ['waypoint', 'web'])).toBe('waypoint');
  });

  it('suggests nothing far away, and breaks ties by name', () => {
    expect(closestName('frontend', ['db', 'web'])).toBeUndefined();
    expect(closestName('ab', ['aa', 'bb'])).toBe('aa');
    expect(closestName('x', [])).toBeUndefined();
  });
});
