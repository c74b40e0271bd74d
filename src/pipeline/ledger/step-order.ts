import type { StepName } from '../../db/schema/enums.js';

/** The steps of every window, in the order a chain runs them; a window has this many steps. */
export const stepOrder: readonly StepName[] = ['extract', 'validate', 'transform', 'load'];

/** How many steps a run of `windowCount` windows has. */
export const stepsOfRun = (windowCount: number): number => windowCount * stepOrder.length;
