//! Spatial weights: who is whose neighbour, and how much each neighbour counts.
//!
//! Stored in compressed sparse rows so that a 100,000-unit grid with queen contiguity
//! takes a few megabytes and every row is one contiguous slice.

use crate::grid::MaskedGrid;

/// A sparse, possibly asymmetric weights matrix over `n` units.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
    values: Vec<f64>,
}

impl Weights {
    /// Builds weights from one list of `(neighbour, weight)` per unit. Each list is
    /// sorted by neighbour; zero weights are kept (they still count as links).
    pub fn from_lists(lists: Vec<Vec<(u32, f64)>>) -> Self {
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        let mut neighbours = Vec::new();
        let mut values = Vec::new();
        offsets.push(0);
        for mut list in lists {
            list.sort_by_key(|&(j, _)| j);
            for (j, w) in list {
                neighbours.push(j);
                values.push(w);
            }
            offsets.push(neighbours.len());
        }
        Self {
            offsets,
            neighbours,
            values,
        }
    }

    /// Number of units.
    pub fn n(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Unit `i`'s neighbours and their weights.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.neighbours[a..b], &self.values[a..b])
    }

    /// Number of neighbours of unit `i` (including itself when the diagonal is set).
    pub fn cardinality(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// Sum of unit `i`'s weights.
    pub fn row_sum(&self, i: usize) -> f64 {
        self.row(i).1.iter().sum()
    }

    /// Whether unit `i` lists itself.
    pub fn has_self(&self, i: usize) -> bool {
        self.row(i).0.binary_search(&(i as u32)).is_ok()
    }

    /// The same links plus a self-link of weight `value` for every unit that lacks one
    /// (Gi\* counts the unit itself among its neighbours).
    pub fn with_self(&self, value: f64) -> Weights {
        let lists = (0..self.n())
            .map(|i| {
                let (js, ws) = self.row(i);
                let mut list: Vec<(u32, f64)> =
                    js.iter().copied().zip(ws.iter().copied()).collect();
                if !self.has_self(i) {
                    list.push((i as u32, value));
                }
                list
            })
            .collect();
        Weights::from_lists(lists)
    }

    /// Every row divided by its sum (rows summing to zero are left as they are).
    pub fn row_standardised(&self) -> Weights {
        let mut out = self.clone();
        for i in 0..self.n() {
            let s = self.row_sum(i);
            if s != 0.0 {
                for v in &mut out.values[self.offsets[i]..self.offsets[i + 1]] {
                    *v /= s;
                }
            }
        }
        out
    }

    /// Every weight set to one (binary weights).
    pub fn binary(&self) -> Weights {
        let mut out = self.clone();
        out.values.iter_mut().for_each(|v| *v = 1.0);
        out
    }

    /// Queen contiguity on a masked grid: the up to eight kept cells sharing an edge or
    /// a corner.
    pub fn queen(grid: &MaskedGrid) -> Weights {
        Self::contiguity(grid, true)
    }

    /// Rook contiguity on a masked grid: the up to four kept cells sharing an edge.
    pub fn rook(grid: &MaskedGrid) -> Weights {
        Self::contiguity(grid, false)
    }

    fn contiguity(grid: &MaskedGrid, corners: bool) -> Weights {
        let lists = grid
            .cells()
            .iter()
            .map(|&(r, c)| {
                let mut list = Vec::with_capacity(8);
                for dr in -1i64..=1 {
                    for dc in -1i64..=1 {
                        if (dr == 0 && dc == 0) || (!corners && dr != 0 && dc != 0) {
                            continue;
                        }
                        let (rr, cc) = (i64::from(r) + dr, i64::from(c) + dc);
                        if rr < 0 || cc < 0 {
                            continue;
                        }
                        if let Some(j) = grid.index_of(rr as u32, cc as u32) {
                            list.push((j as u32, 1.0));
                        }
                    }
                }
                list
            })
            .collect();
        Weights::from_lists(lists)
    }
}
