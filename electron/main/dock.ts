/**
 * Dock geometry of the panel: a strip along one edge of a display's work area (the screen less
 * taskbars and menu bars), in Electron's device-independent pixels (DIP). Places are remembered
 * per display; a display that disappeared falls back to the primary one.
 */
import { z } from 'zod';
import { DockEdge } from './config.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DisplayInfo {
  id: number;
  workArea: Rect;
  scaleFactor: number;
}

/** Default thickness (DIP): the width of a left/right panel, the height of a top/bottom one. */
export const DEFAULT_THICKNESS: Record<DockEdge, number> = { right: 320, left: 320, top: 200, bottom: 200 };
export const MIN_THICKNESS = 120;

const isVertical = (edge: DockEdge): boolean => edge === 'left' || edge === 'right';

/**
 * The thickness actually used: at least MIN_THICKNESS, at most half the work area (never more
 * than all of it), and a whole number of device pixels at fractional scales (125 %, 150 %, 175 %),
 * so the inner edge is not blurred and no seam is left at the screen edge.
 */
export function effectiveThickness(requested: number, available: number, scaleFactor = 1): number {
  const scale = Number.isFinite(scaleFactor) && scaleFactor > 0 ? scaleFactor : 1;
  const wanted = Number.isFinite(requested) ? Math.round(requested) : MIN_THICKNESS;
  const max = Math.max(MIN_THICKNESS, Math.floor(available / 2));
  let thickness = Math.min(Math.max(wanted, MIN_THICKNESS), max);
  // Nearest DIP value whose device-pixel size is whole, searching a few pixels either way.
  for (let delta = 0; delta <= 4; delta++) {
    const down = thickness - delta;
    const up = thickness + delta;
    if (down >= MIN_THICKNESS && Number.isInteger(Math.round(down * scale * 1000) / 1000)) { thickness = down; break; }
    if (up <= max && Number.isInteger(Math.round(up * scale * 1000) / 1000)) { thickness = up; break; }
  }
  return Math.max(1, Math.min(thickness, Math.floor(available)));
}

/** Window bounds for a panel on `edge` of `workArea`: full length, `thickness` deep, inside the area. */
export function dockBounds(workArea: Rect, edge: DockEdge, thickness: number = DEFAULT_THICKNESS[edge], scaleFactor = 1): Rect {
  const area = {
    x: Math.round(workArea.x),
    y: Math.round(workArea.y),
    width: Math.max(1, Math.round(workArea.width)),
    height: Math.max(1, Math.round(workArea.height)),
  };
  const depth = effectiveThickness(thickness, isVertical(edge) ? area.width : area.height, scaleFactor);
  switch (edge) {
    case 'left':
      return { x: area.x, y: area.y, width: depth, height: area.height };
    case 'right':
      return { x: area.x + area.width - depth, y: area.y, width: depth, height: area.height };
    case 'top':
      return { x: area.x, y: area.y, width: area.width, height: depth };
    case 'bottom':
      return { x: area.x, y: area.y + area.height - depth, width: area.width, height: depth };
  }
}

/** Moves and shrinks `rect` so it lies inside `area`. */
export function clampToArea(rect: Rect, area: Rect): Rect {
  const width = Math.min(Math.max(1, rect.width), area.width);
  const height = Math.min(Math.max(1, rect.height), area.height);
  const x = Math.min(Math.max(rect.x, area.x), area.x + area.width - width);
  const y = Math.min(Math.max(rect.y, area.y), area.y + area.height - height);
  return { x, y, width, height };
}

/** Remembered place per display id (persisted as JSON; validated when read back). */
export const DockMemory = z.record(
  z.string().regex(/^\d+$/),
  z.strictObject({ edge: DockEdge, thickness: z.number().int().min(1).max(10_000) }),
);
export type DockMemory = z.infer<typeof DockMemory>;

export interface DockPlacement {
  displayId: number;
  edge: DockEdge;
  thickness: number;
  bounds: Rect;
}

export interface PlacementInput {
  displays: readonly DisplayInfo[];
  primaryId: number;
  /** The display the panel should be on (the one it was on last); absent or gone = primary. */
  displayId?: number;
  memory: DockMemory;
  /** Edge from configuration, used for a display with nothing remembered. */
  defaultEdge: DockEdge;
  /** The administrator locked the edge: remembered edges are not used. */
  lockEdge?: boolean;
}

/** Where the panel goes: the wanted display if it still exists (else the primary), at its remembered place. */
export function placePanel(input: PlacementInput): DockPlacement {
  const { displays } = input;
  if (displays.length === 0) throw new Error('no display');
  const display =
    displays.find((d) => d.id === input.displayId) ?? displays.find((d) => d.id === input.primaryId) ?? displays[0]!;
  const remembered = input.memory[String(display.id)];
  const edge = input.lockEdge ? input.defaultEdge : (remembered?.edge ?? input.defaultEdge);
  // A remembered thickness is a width or a height: it only carries over to an edge of the same kind.
  const thickness =
    remembered && isVertical(remembered.edge) === isVertical(edge) ? remembered.thickness : DEFAULT_THICKNESS[edge];
  const bounds = dockBounds(display.workArea, edge, thickness, display.scaleFactor);
  return { displayId: display.id, edge, thickness: isVertical(edge) ? bounds.width : bounds.height, bounds };
}

/** The memory with the panel's current place on `displayId` recorded. */
export function remember(memory: DockMemory, displayId: number, edge: DockEdge, thickness: number): DockMemory {
  return { ...memory, [String(displayId)]: { edge, thickness: Math.round(thickness) } };
}

/** The edge nearest to a rectangle's centre, for a panel the user dragged to another edge. */
export function nearestEdge(rect: Rect, area: Rect): DockEdge {
  const cx = rect.x + rect.width / 2 - area.x;
  const cy = rect.y + rect.height / 2 - area.y;
  const distances: [DockEdge, number][] = [
    ['left', cx / area.width],
    ['right', 1 - cx / area.width],
    ['top', cy / area.height],
    ['bottom', 1 - cy / area.height],
  ];
  return distances.reduce((best, next) => (next[1] < best[1] ? next : best))[0];
}

/** The memory with `edge` chosen for a display; the thickness carries over between edges of the same kind. */
export function withEdge(memory: DockMemory, displayId: number, edge: DockEdge): DockMemory {
  const previous = memory[String(displayId)];
  const thickness = previous && isVertical(previous.edge) === isVertical(edge) ? previous.thickness : DEFAULT_THICKNESS[edge];
  return remember(memory, displayId, edge, thickness);
}

/**
 * The user resized or moved the panel window to `bounds` (on `display`): a new thickness when its
 * depth changed on the same display, else a new display and (unless locked) the nearest edge there.
 * Answers the updated memory and the display the panel now belongs to; unchanged when the bounds
 * are the ones we set.
 */
export function adoptGeometry(
  current: DockPlacement,
  bounds: Rect,
  display: DisplayInfo,
  memory: DockMemory,
  options: { lockEdge?: boolean; lockedEdge?: DockEdge } = {},
): { memory: DockMemory; displayId: number } {
  const same = (a: Rect, b: Rect): boolean => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
  if (same(bounds, current.bounds)) return { memory, displayId: current.displayId };
  const vertical = isVertical(current.edge);
  const resized = vertical ? bounds.width !== current.bounds.width : bounds.height !== current.bounds.height;
  if (resized && display.id === current.displayId) {
    return { memory: remember(memory, display.id, current.edge, vertical ? bounds.width : bounds.height), displayId: display.id };
  }
  const edge = options.lockEdge ? (options.lockedEdge ?? current.edge) : nearestEdge(bounds, display.workArea);
  return { memory: withEdge(memory, display.id, edge), displayId: display.id };
}

/** dock.json in the user data folder: the display the panel was on last and the place on each. */
export const DockFile = z.strictObject({ displayId: z.number().int().optional(), places: DockMemory });
export type DockFile = z.infer<typeof DockFile>;
