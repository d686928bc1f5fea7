//! Square grids in a dataset's local metric CRS, and masks that keep the cells inside a
//! jurisdiction.
//!
//! A grid is aligned to whole multiples of its cell size (the origin is
//! `floor(min / cell) * cell`), so the same cell size always gives the same cells for a
//! dataset, whatever time window or category is analysed. Row 0 is the southernmost row
//! and column 0 the westernmost column; a point on a shared edge belongs to the cell to
//! its north / east (cells are half-open `[x0, x0 + cell) × [y0, y0 + cell)`).

/// Why a grid cannot be built.
#[derive(Debug, Clone, PartialEq)]
pub enum GridError {
    /// The cell size is not a positive finite number of metres.
    BadCellSize(f64),
    /// The extent is empty or not finite.
    BadExtent([f64; 4]),
    /// More cells than the limit: choose a larger cell size.
    TooManyCells { cells: u64, limit: u64 },
}

impl std::fmt::Display for GridError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GridError::BadCellSize(c) => write!(
                f,
                "cell size {c} is not a positive number of metres: pass e.g. --cell-size 150"
            ),
            GridError::BadExtent(b) => write!(
                f,
                "the area to cover {b:?} is empty or not finite: the selection has no located events and no boundary"
            ),
            GridError::TooManyCells { cells, limit } => write!(
                f,
                "the grid would have {cells} cells, more than the limit of {limit}: choose a larger cell size"
            ),
        }
    }
}

impl std::error::Error for GridError {}

/// At most this many cells (before masking) in one grid: 25 million cells is a 5 km
/// city at 1 m, or a 750 km region at 150 m.
pub const MAX_CELLS: u64 = 25_000_000;

/// A square grid: `rows × cols` cells of side `cell` metres from the south-west corner
/// `(x0, y0)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    pub x0: f64,
    pub y0: f64,
    pub cell: f64,
    pub rows: u32,
    pub cols: u32,
}

impl Grid {
    /// The aligned grid covering `extent = [min_x, min_y, max_x, max_y]`.
    pub fn covering(extent: [f64; 4], cell: f64) -> Result<Grid, GridError> {
        if !(cell.is_finite() && cell > 0.0) {
            return Err(GridError::BadCellSize(cell));
        }
        let [min_x, min_y, max_x, max_y] = extent;
        if !extent.iter().all(|v| v.is_finite()) || max_x < min_x || max_y < min_y {
            return Err(GridError::BadExtent(extent));
        }
        let x0 = (min_x / cell).floor() * cell;
        let y0 = (min_y / cell).floor() * cell;
        // The maximum is included: a point exactly on the last edge gets one more cell.
        let cols = ((max_x - x0) / cell).floor() as u64 + 1;
        let rows = ((max_y - y0) / cell).floor() as u64 + 1;
        let cells = rows.saturating_mul(cols);
        if cells > MAX_CELLS {
            return Err(GridError::TooManyCells {
                cells,
                limit: MAX_CELLS,
            });
        }
        Ok(Grid {
            x0,
            y0,
            cell,
            rows: rows as u32,
            cols: cols as u32,
        })
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.rows as usize * self.cols as usize
    }

    /// True when the grid has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The (row, col) of the cell holding a point, if it is on the grid.
    pub fn cell_of(&self, x: f64, y: f64) -> Option<(u32, u32)> {
        let c = ((x - self.x0) / self.cell).floor();
        let r = ((y - self.y0) / self.cell).floor();
        if c >= 0.0 && r >= 0.0 && c < f64::from(self.cols) && r < f64::from(self.rows) {
            Some((r as u32, c as u32))
        } else {
            None
        }
    }

    /// The centre of a cell.
    pub fn centre(&self, row: u32, col: u32) -> (f64, f64) {
        (
            self.x0 + (f64::from(col) + 0.5) * self.cell,
            self.y0 + (f64::from(row) + 0.5) * self.cell,
        )
    }

    /// The cell's corners, counter-clockwise from the south-west, closed.
    pub fn ring(&self, row: u32, col: u32) -> [(f64, f64); 5] {
        let x = self.x0 + f64::from(col) * self.cell;
        let y = self.y0 + f64::from(row) * self.cell;
        let c = self.cell;
        [(x, y), (x + c, y), (x + c, y + c), (x, y + c), (x, y)]
    }

    /// Cell area in square metres.
    pub fn cell_area(&self) -> f64 {
        self.cell * self.cell
    }
}

/// A grid restricted to the cells of interest (typically those inside the
/// jurisdiction). Masked cells are numbered `0..len()` in row-major order (south to
/// north, west to east), which is the order of every per-cell result.
#[derive(Debug, Clone)]
pub struct MaskedGrid {
    grid: Grid,
    cells: Vec<(u32, u32)>,
    /// For every grid cell, its masked index or `u32::MAX` when masked out.
    lookup: Vec<u32>,
}

impl MaskedGrid {
    /// Keeps the cells for which `keep(row, col)` is true.
    pub fn new(grid: Grid, mut keep: impl FnMut(u32, u32) -> bool) -> Self {
        let mut cells = Vec::new();
        let mut lookup = vec![u32::MAX; grid.len()];
        for row in 0..grid.rows {
            for col in 0..grid.cols {
                if keep(row, col) {
                    lookup[row as usize * grid.cols as usize + col as usize] = cells.len() as u32;
                    cells.push((row, col));
                }
            }
        }
        Self {
            grid,
            cells,
            lookup,
        }
    }

    /// Every cell of the grid.
    pub fn all(grid: Grid) -> Self {
        Self::new(grid, |_, _| true)
    }

    /// The underlying grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Number of kept cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True when no cell is kept.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// (row, col) of the masked cell `i`.
    pub fn cell(&self, i: usize) -> (u32, u32) {
        self.cells[i]
    }

    /// All kept cells as (row, col), in index order.
    pub fn cells(&self) -> &[(u32, u32)] {
        &self.cells
    }

    /// The masked index of (row, col), if kept.
    pub fn index_of(&self, row: u32, col: u32) -> Option<usize> {
        if row >= self.grid.rows || col >= self.grid.cols {
            return None;
        }
        let v = self.lookup[row as usize * self.grid.cols as usize + col as usize];
        (v != u32::MAX).then_some(v as usize)
    }

    /// The masked index of the cell holding a point, if that cell is kept.
    pub fn index_of_point(&self, x: f64, y: f64) -> Option<usize> {
        let (r, c) = self.grid.cell_of(x, y)?;
        self.index_of(r, c)
    }

    /// Total area of the kept cells in square metres.
    pub fn area(&self) -> f64 {
        self.cells.len() as f64 * self.grid.cell_area()
    }
}
