// The category slugs of crates/sl-types/src/category.rs (docs/CLI.md "Category slugs").
export const CATEGORIES = [
  'homicide', 'robbery', 'aggravated_assault', 'simple_assault', 'sexual_offence',
  'residential_burglary', 'commercial_burglary', 'theft_from_vehicle', 'vehicle_theft',
  'other_theft', 'vandalism', 'arson', 'drugs', 'weapons', 'disorder', 'fraud', 'traffic',
  'other', 'cfs_burglary', 'cfs_vehicle_theft', 'cfs_person', 'cfs_property', 'cfs_disorder',
  'cfs_suspicious', 'cfs_traffic', 'cfs_service',
] as const;

/** Forecasting models `backtest` and `forecast` know (docs/CLI.md `--models`). */
export const MODELS = [
  'naive', 'historical', 'retrospective', 'prospective', 'stkde', 'etas-grid', 'sepp', 'glm', 'ensemble',
] as const;

/** Colours for event points, by broad group. */
export function categoryColour(slug: string): string {
  if (['homicide', 'robbery', 'aggravated_assault', 'simple_assault', 'sexual_offence', 'weapons', 'cfs_person'].includes(slug)) return '#c0392b';
  if (slug.includes('burglary')) return '#8e44ad';
  if (slug.includes('vehicle')) return '#2471a3';
  if (['other_theft', 'fraud', 'cfs_property'].includes(slug)) return '#117a65';
  if (['vandalism', 'arson', 'drugs', 'disorder', 'cfs_disorder'].includes(slug)) return '#b9770e';
  return '#5d6d7e';
}
