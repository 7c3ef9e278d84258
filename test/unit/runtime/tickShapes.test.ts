import { describe, expect, it } from 'vitest';
import { keepTickShapesAlive, keptTickShapes } from '../../../src/runtime/tickShapes.js';

describe('keepTickShapesAlive', () => {
  it("holds one of node's nextTick entries of each shape, once, with its async hook off again afterwards", async () => {
    keepTickShapesAlive();
    expect(keptTickShapes()).toBe(2);
    keepTickShapesAlive();
    expect(keptTickShapes()).toBe(2);
    // the hook is off again: later ticks are not collected
    await new Promise<void>((resolve) => process.nextTick(resolve));
    expect(keptTickShapes()).toBe(2);
  });
});
