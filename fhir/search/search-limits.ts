/**
 * Bounds on what one search may cost (DESIGN.md section 7; reliability.md section 3, API4): page size, include
 * fan-out, alternatives per parameter, parameters per search. Every limit is reported to the client: a clamp as a
 * warning in the Bundle, a refusal as a 400 naming the parameter.
 */

/** Page size when `_count` is absent. */
export const DEFAULT_PAGE_SIZE = 20;
/** Larger `_count`s are clamped to this (with a warning issue in the Bundle). */
export const MAX_PAGE_SIZE = 100;
/** Resources `_include` and `_revinclude` add to one page, together; beyond it the page says it was truncated. */
export const MAX_INCLUDED_PER_PAGE = 200;
/** Comma-separated alternatives in one parameter. */
export const MAX_VALUES_PER_PARAMETER = 100;
/** Search parameters (criteria) in one search. */
export const MAX_CRITERIA = 30;
/** Rows a `scan-text` parameter folds in memory; a type with more rows needs store tokens for it instead. */
export const SCAN_TEXT_MAX_ROWS = 1000;
