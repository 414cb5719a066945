import { describe, expect, it } from 'vitest';
import { chatStateOf } from '../../shared/chat.js';

describe('chatStateOf', () => {
  it.each([
    [['accepted', 'invited'], 'pending'],
    [['accepted', 'accepted'], 'active'],
    [['accepted', 'accepted', 'invited'], 'active'],
    [['accepted', 'declined'], 'closed'],
    [['left', 'invited'], 'closed'],
    [['accepted', 'left', 'invited'], 'pending'],
    [['accepted', 'left', 'declined'], 'closed'],
  ] as const)('%j -> %s', (statuses, state) => {
    expect(chatStateOf(statuses)).toBe(state);
  });
});
