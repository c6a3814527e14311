/** Scheduler priority levels, highest first: under overload the lowest is refused first. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
