// App-wide state: the signed-in user and the chosen dataset.
import type { Dataset, User } from './api';

export const state: { user: User | null; datasets: Dataset[]; dataset: string | null } = {
  user: null,
  datasets: [],
  dataset: null,
};

const KEY = 'streetlight.dataset';

export function chooseDataset(name: string): void {
  state.dataset = name;
  try {
    sessionStorage.setItem(KEY, name);
  } catch {
    // storage may be disabled: the choice then lasts for this page only
  }
}

export function initialDataset(list: Dataset[]): string | null {
  let saved: string | null = null;
  try {
    saved = sessionStorage.getItem(KEY);
  } catch {
    saved = null;
  }
  if (saved && list.some((d) => d.name === saved)) return saved;
  // Otherwise the dataset with the most events: the department's main data, not a small
  // extract that happens to sort first.
  const largest = list.reduce<Dataset | null>((best, d) => (best && best.events >= d.events ? best : d), null);
  return largest?.name ?? null;
}

export function currentDataset(): Dataset | undefined {
  return state.datasets.find((d) => d.name === state.dataset);
}

/** The dataset's last local day with events (YYYY-MM-DD), from `last_occurrence`. */
export function lastEventDay(d: Dataset | undefined): string | null {
  const m = d?.last_occurrence?.match(/^\d{4}-\d{2}-\d{2}/);
  return m ? m[0] : null;
}
