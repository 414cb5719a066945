import { describe, expect, it } from 'vitest';
import {
  adoptGeometry,
  clampToArea,
  DEFAULT_THICKNESS,
  dockBounds,
  DockFile,
  effectiveThickness,
  MIN_THICKNESS,
  nearestEdge,
  placePanel,
  remember,
  withEdge,
  type DisplayInfo,
} from '../../electron/main/dock.js';

// A 1920x1080 display with a 40 px taskbar at the bottom; a second one to its right, menu bar on top.
const primary: DisplayInfo = { id: 1, workArea: { x: 0, y: 0, width: 1920, height: 1040 }, scaleFactor: 1 };
const second: DisplayInfo = { id: 2, workArea: { x: 1920, y: 25, width: 1536, height: 839 }, scaleFactor: 1.25 };

describe('dockBounds', () => {
  it('puts a 320 px strip on the right by default, full height', () => {
    expect(dockBounds(primary.workArea, 'right')).toEqual({ x: 1600, y: 0, width: 320, height: 1040 });
  });

  it('handles each edge, within the work area of a display that is not at 0,0', () => {
    const area = second.workArea;
    expect(dockBounds(area, 'left')).toEqual({ x: 1920, y: 25, width: 320, height: 839 });
    expect(dockBounds(area, 'right')).toEqual({ x: 1920 + 1536 - 320, y: 25, width: 320, height: 839 });
    expect(dockBounds(area, 'top')).toEqual({ x: 1920, y: 25, width: 1536, height: 200 });
    expect(dockBounds(area, 'bottom')).toEqual({ x: 1920, y: 25 + 839 - 200, width: 1536, height: 200 });
    expect(DEFAULT_THICKNESS).toEqual({ right: 320, left: 320, top: 200, bottom: 200 });
  });

  it('touches the far edge exactly (no gap) for right and bottom', () => {
    for (const edge of ['right', 'bottom'] as const) {
      const b = dockBounds(second.workArea, edge, 250, 1.5);
      expect(b.x + b.width).toBe(second.workArea.x + second.workArea.width);
      expect(b.y + b.height).toBe(second.workArea.y + second.workArea.height);
    }
  });

  it('uses a whole number of device pixels at fractional scales', () => {
    expect(effectiveThickness(321, 1920, 1.25)).toBe(320); // 400 device px
    expect(effectiveThickness(323, 1920, 1.5) * 1.5 % 1).toBe(0);
    expect(effectiveThickness(330, 1920, 1.75)).toBe(328); // 574 device px
    expect(effectiveThickness(321, 1920, 1)).toBe(321);
    expect(effectiveThickness(321, 1920, 2)).toBe(321);
    for (const scale of [1, 1.25, 1.5, 1.75, 2, 2.5]) {
      for (const edge of ['left', 'right', 'top', 'bottom'] as const) {
        const b = dockBounds(primary.workArea, edge, 301, scale);
        const depth = edge === 'left' || edge === 'right' ? b.width : b.height;
        expect(Number.isInteger(Math.round(depth * scale * 1000) / 1000), `${edge} @${scale}: ${depth}`).toBe(true);
        expect(Math.abs(depth - 301)).toBeLessThanOrEqual(4);
      }
    }
  });

  it('clamps the thickness: never below the minimum, never over half the work area', () => {
    expect(dockBounds(primary.workArea, 'left', 10).width).toBe(MIN_THICKNESS);
    expect(dockBounds(primary.workArea, 'left', 5000).width).toBe(960);
    expect(dockBounds(primary.workArea, 'top', 5000).height).toBe(520);
    expect(dockBounds(primary.workArea, 'left', Number.NaN).width).toBe(MIN_THICKNESS);
    // A tiny work area: the panel still fits inside it.
    const tiny = { x: 0, y: 0, width: 100, height: 80 };
    expect(dockBounds(tiny, 'right')).toEqual({ x: 0, y: 0, width: 100, height: 80 });
    expect(dockBounds(tiny, 'bottom')).toEqual({ x: 0, y: 0, width: 100, height: 80 });
  });

  it('treats a nonsense scale factor as 1', () => {
    expect(dockBounds(primary.workArea, 'right', 321, 0)).toEqual(dockBounds(primary.workArea, 'right', 321, 1));
    expect(dockBounds(primary.workArea, 'right', 321, Number.NaN).width).toBe(321);
  });
});

describe('clampToArea', () => {
  it('moves and shrinks a rectangle into the area', () => {
    const area = { x: 100, y: 50, width: 800, height: 600 };
    expect(clampToArea({ x: 0, y: 0, width: 200, height: 100 }, area)).toEqual({ x: 100, y: 50, width: 200, height: 100 });
    expect(clampToArea({ x: 850, y: 600, width: 200, height: 100 }, area)).toEqual({ x: 700, y: 550, width: 200, height: 100 });
    expect(clampToArea({ x: 0, y: 0, width: 2000, height: 2000 }, area)).toEqual(area);
  });
});

describe('placePanel', () => {
  const displays = [primary, second];

  it('uses the configured edge and the default thickness on a display with nothing remembered', () => {
    const place = placePanel({ displays, primaryId: 1, memory: {}, defaultEdge: 'left' });
    expect(place).toEqual({ displayId: 1, edge: 'left', thickness: 320, bounds: { x: 0, y: 0, width: 320, height: 1040 } });
  });

  it('remembers edge and thickness per display', () => {
    let memory = remember({}, 2, 'top', 180);
    memory = remember(memory, 1, 'left', 400);
    expect(placePanel({ displays, primaryId: 1, displayId: 2, memory, defaultEdge: 'right' })).toMatchObject({
      displayId: 2,
      edge: 'top',
      bounds: { x: 1920, y: 25, width: 1536, height: 180 },
    });
    expect(placePanel({ displays, primaryId: 1, displayId: 1, memory, defaultEdge: 'right' }).bounds).toEqual({ x: 0, y: 0, width: 400, height: 1040 });
  });

  it('falls back to the primary display when the remembered one is gone', () => {
    const memory = remember(remember({}, 2, 'top', 180), 1, 'left', 360);
    const place = placePanel({ displays: [primary], primaryId: 1, displayId: 2, memory, defaultEdge: 'right' });
    expect(place.displayId).toBe(1);
    expect(place.bounds).toEqual({ x: 0, y: 0, width: 360, height: 1040 });
    // ... and returns when it comes back.
    expect(placePanel({ displays, primaryId: 1, displayId: 2, memory, defaultEdge: 'right' }).displayId).toBe(2);
  });

  it('uses the first display when even the primary id is unknown, and refuses no displays', () => {
    expect(placePanel({ displays: [second], primaryId: 7, memory: {}, defaultEdge: 'right' }).displayId).toBe(2);
    expect(() => placePanel({ displays: [], primaryId: 1, memory: {}, defaultEdge: 'right' })).toThrow('no display');
  });

  it('follows a changed work area (taskbar moved, resolution changed)', () => {
    const memory = remember({}, 1, 'right', 300);
    const resized: DisplayInfo = { ...primary, workArea: { x: 0, y: 30, width: 1280, height: 690 } };
    expect(placePanel({ displays: [resized], primaryId: 1, displayId: 1, memory, defaultEdge: 'right' }).bounds).toEqual({ x: 980, y: 30, width: 300, height: 690 });
  });

  it('ignores remembered edges when the administrator locked the edge, keeping a thickness of the same kind', () => {
    const memory = remember({}, 1, 'left', 400);
    expect(placePanel({ displays, primaryId: 1, displayId: 1, memory, defaultEdge: 'right', lockEdge: true }).bounds).toEqual({ x: 1520, y: 0, width: 400, height: 1040 });
    expect(placePanel({ displays, primaryId: 1, displayId: 1, memory, defaultEdge: 'bottom', lockEdge: true }).bounds).toEqual({ x: 0, y: 840, width: 1920, height: 200 });
  });
});

describe('changing place', () => {
  it('withEdge keeps the thickness between left and right, resets it between left and top', () => {
    const memory = remember({}, 1, 'left', 400);
    expect(withEdge(memory, 1, 'right')['1']).toEqual({ edge: 'right', thickness: 400 });
    expect(withEdge(memory, 1, 'top')['1']).toEqual({ edge: 'top', thickness: 200 });
    expect(withEdge({}, 3, 'bottom')['3']).toEqual({ edge: 'bottom', thickness: 200 });
  });

  it('nearestEdge picks the edge closest to the window centre', () => {
    const area = primary.workArea;
    expect(nearestEdge({ x: 10, y: 300, width: 300, height: 400 }, area)).toBe('left');
    expect(nearestEdge({ x: 1500, y: 300, width: 300, height: 400 }, area)).toBe('right');
    expect(nearestEdge({ x: 800, y: 0, width: 300, height: 100 }, area)).toBe('top');
    expect(nearestEdge({ x: 800, y: 950, width: 300, height: 80 }, area)).toBe('bottom');
  });

  it('adoptGeometry records a resize, a move to another edge or display, and ignores our own bounds', () => {
    const displays = [primary, second];
    const current = placePanel({ displays, primaryId: 1, memory: {}, defaultEdge: 'right' });
    expect(adoptGeometry(current, current.bounds, primary, {})).toEqual({ memory: {}, displayId: 1 });

    const wider = { ...current.bounds, x: current.bounds.x - 80, width: 400 };
    expect(adoptGeometry(current, wider, primary, {})).toEqual({ memory: { '1': { edge: 'right', thickness: 400 } }, displayId: 1 });

    const draggedLeft = { ...current.bounds, x: 20 };
    expect(adoptGeometry(current, draggedLeft, primary, {}).memory['1']).toEqual({ edge: 'left', thickness: 320 });
    expect(adoptGeometry(current, draggedLeft, primary, {}, { lockEdge: true, lockedEdge: 'right' }).memory['1']).toEqual({ edge: 'right', thickness: 320 });

    const onSecond = { x: 2000, y: 700, width: 1200, height: 150 };
    expect(adoptGeometry(current, onSecond, second, {})).toEqual({ memory: { '2': { edge: 'bottom', thickness: 200 } }, displayId: 2 });
  });

  it('validates the stored dock file', () => {
    expect(DockFile.safeParse({ displayId: 2, places: { '2': { edge: 'top', thickness: 180 } } }).success).toBe(true);
    expect(DockFile.safeParse({ places: { '2': { edge: 'middle', thickness: 180 } } }).success).toBe(false);
    expect(DockFile.safeParse({ places: { x: { edge: 'top', thickness: 180 } } }).success).toBe(false);
  });
});
